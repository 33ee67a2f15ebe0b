"""providers.bert_gguf on a tiny BERT folder written here: the GGUF file it makes is read back field by field (the
real model, converted and run by llama.cpp, is tests/llm/test_local_embeddings.py, `-m local`)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from providers.bert_gguf import ALIGNMENT, ConversionError, convert, gguf_name

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "espresso", "##s", "grind"]


def bert_folder(folder: Path, *, model_type: str = "bert") -> dict[str, bytes]:
    """A two-dimensional, one-layer BERT in Hugging Face's layout; returns each tensor's bytes by its GGUF name."""
    config = {"model_type": model_type, "vocab_size": len(VOCAB), "hidden_size": 2, "intermediate_size": 4}
    config |= {"num_hidden_layers": 1, "num_attention_heads": 1, "max_position_embeddings": 8, "type_vocab_size": 2}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    shapes = {
        "embeddings.word_embeddings.weight": [len(VOCAB), 2],
        "embeddings.position_ids": [1, 8],
        "encoder.layer.0.intermediate.dense.weight": [4, 2],
        "encoder.layer.0.output.LayerNorm.bias": [2],
        "pooler.dense.weight": [2, 2],
    }
    header: dict[str, Any] = {}
    data = b""
    expected = {}
    for n, (name, shape) in enumerate(shapes.items()):
        count = 1
        for size in shape:
            count *= size
        body = struct.pack(f"<{count}f", *(n + i / 100 for i in range(count)))
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(body)]}
        data += body
        if (target := gguf_name(name)) is not None:
            expected[target] = body
    raw = json.dumps(header).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return expected


def read_string(file: BinaryIO) -> str:
    (size,) = struct.unpack("<Q", file.read(8))
    return file.read(size).decode()


def read_value(file: BinaryIO, kind: int) -> Any:
    if kind == 8:
        return read_string(file)
    if kind == 9:
        item, count = struct.unpack("<IQ", file.read(12))
        return [read_value(file, item) for _ in range(count)]
    fmt = {4: "<I", 5: "<i", 6: "<f", 7: "<?"}[kind]
    return struct.unpack(fmt, file.read(struct.calcsize(fmt)))[0]


def test_the_gguf_file_holds_llama_cpp_names_shapes_vocabulary_and_the_same_bytes(tmp_path: Path) -> None:
    expected = bert_folder(tmp_path)
    path = convert(tmp_path, tmp_path / "out" / "tiny.gguf")
    with path.open("rb") as file:
        assert file.read(4) == b"GGUF"
        version, tensors, keys = struct.unpack("<IQQ", file.read(20))
        assert version == 3
        metadata = {}
        for _ in range(keys):
            key = read_string(file)
            metadata[key] = read_value(file, struct.unpack("<I", file.read(4))[0])
        infos = {}
        for _ in range(tensors):
            name = read_string(file)
            (dims,) = struct.unpack("<I", file.read(4))
            shape = struct.unpack(f"<{dims}Q", file.read(8 * dims))
            kind, offset = struct.unpack("<IQ", file.read(12))
            infos[name] = (shape, kind, offset)
        start = (file.tell() + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
        assert metadata["general.architecture"] == "bert"
        assert metadata["bert.embedding_length"] == 2 and metadata["bert.block_count"] == 1
        assert metadata["bert.pooling_type"] == 1  # mean, as sentence-transformers pools this model
        assert metadata["tokenizer.ggml.tokens"][4:] == ["[MASK]", "\u2581espresso", "s", "\u2581grind"]
        assert metadata["tokenizer.ggml.token_type"][:6] == [3, 2, 3, 3, 3, 1]
        assert metadata["tokenizer.ggml.seperator_token_id"] == 3 and metadata["tokenizer.ggml.cls_token_id"] == 2
        # no pooler, no position ids; PyTorch's [out, in] is GGUF's [in, out]
        assert set(infos) == {"token_embd.weight", "blk.0.ffn_up.weight", "blk.0.layer_output_norm.bias"}
        assert infos["token_embd.weight"][0] == (2, len(VOCAB))
        assert infos["blk.0.ffn_up.weight"][0] == (2, 4)
        for name, (_, kind, offset) in infos.items():
            assert kind == 0 and offset % ALIGNMENT == 0
            file.seek(start + offset)
            assert file.read(len(expected[name])) == expected[name]
    assert not list(path.parent.glob("*.partial"))


def test_a_folder_that_is_not_bert_is_refused(tmp_path: Path) -> None:
    bert_folder(tmp_path, model_type="llama")
    with pytest.raises(ConversionError, match="not BERT"):
        convert(tmp_path, tmp_path / "x.gguf")
    assert not (tmp_path / "x.gguf").exists()
