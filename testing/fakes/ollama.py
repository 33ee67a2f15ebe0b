"""A fake Ollama: `POST /api/chat` streams NDJSON exactly as Ollama does, `GET /api/tags` lists models.

Shapes follow Ollama's API reference (docs/api.md): each line is a chat response object; the last has
`"done": true`, `done_reason`, durations and `prompt_eval_count`/`eval_count`. Errors are `{"error": "..."}`
with the HTTP status, or an `{"error": "..."}` line in the stream.

Thinking (docs/capabilities/thinking): `POST /api/show` lists a model's `capabilities` (`"thinking"` among them for a
model that can think) and, for those, `thinking.values`/`thinking.default`; a chat request with `think` for a model
that cannot think is refused with a 400; reasoning streams as `message.thinking` lines (empty `content`) before the
content.

Tools (docs/capabilities/tool-calling): `Script.tool_calls` stream whole, in one `message.tool_calls` line before
the last (`done_reason` stays "stop"), arguments as an object; `tool` messages name the tool (`tool_name`).

A message's `images` are base64 strings; like Ollama, the fake answers 400 to one that is not an image, and (like
models without a vision projector) to images sent to a model without the `vision` capability, which `/api/show`
lists for the models of `FakeOllama.vision_models`.

Embeddings (docs/api.md, "Generate Embeddings"): `POST /api/embed` takes `{"model", "input"}` (a string or a list)
and answers `{"model", "embeddings": [[...]], "total_duration", "load_duration", "prompt_eval_count"}`, vectors from
`state.embedder` (`testing.fakes.embeddings`); a model it does not have is a 404 `{"error": "model \"x\" not found,
try pulling it first"}`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from testing.fakes.embeddings import inputs_of
from testing.fakes.images import BadImage, SeenImage, decode
from testing.fakes.server import DropConnection, Script, ScriptedProvider


class FakeOllama(ScriptedProvider):
    """The scripted state, plus the models that can think, the models that see images, and what requests carried.

    thinking_models   model name -> its `thinking.values` in `/api/show` (`[False, True]`, or levels such as
                      `["low", "medium", "high"]`); any other model has only the `completion` capability
    vision_models     models with the `vision` capability (the others refuse images with a 400)
    """

    def reset(self) -> None:
        super().reset()
        self.thinking_models: dict[str, list[bool | str]] = {}
        self.vision_models: set[str] = set()
        self.shown: list[str] = []
        """The models `/api/show` was asked about, in order."""
        self.images: list[list[SeenImage]] = []
        """Per chat request, the images of all its messages, decoded."""
        self.check_images = True
        """False: images are not decoded or checked (a benchmark measures the server, not the fake)."""


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def ollama_app(state: ScriptedProvider) -> Starlette:
    def thinking_values(model: str) -> list[bool | str] | None:
        return getattr(state, "thinking_models", {}).get(model)

    async def chat(request: Request) -> Response:
        body = await request.json()
        script = state.take(body, dict(request.headers))
        model = body.get("model", "")
        if body.get("think") not in (None, False) and thinking_values(model) is None and model in state.models:
            return JSONResponse({"error": f'"{model}" does not support thinking'}, status_code=400)
        if script.status != 200:
            headers = {"Retry-After": script.retry_after} if script.retry_after else None
            error = f"model '{model}' not found" if script.status == 404 else script.error
            return JSONResponse({"error": error}, status_code=script.status, headers=headers)
        if model not in state.models:
            return JSONResponse({"error": f"model '{model}' not found"}, status_code=404)
        if problem := _invalid_tools(body):
            return JSONResponse({"error": problem}, status_code=400)
        if isinstance(state, FakeOllama) and state.check_images:
            sent = [image for message in body.get("messages", []) for image in message.get("images") or []]
            try:
                state.images.append([decode(image) for image in sent])
            except BadImage as bad:
                return JSONResponse({"error": f"invalid image input: {bad}"}, status_code=400)
            if sent and model not in state.vision_models:
                return JSONResponse({"error": f"model {model} does not support images"}, status_code=400)
        return StreamingResponse(_stream(state, script, model), media_type="application/x-ndjson")

    async def tags(request: Request) -> Response:
        if state.list_stalls:  # silent until the client hangs up
            while (await request.receive())["type"] != "http.disconnect":
                pass
        return JSONResponse(
            {
                "models": [
                    {
                        "name": name,
                        "model": name,
                        "modified_at": _now(),
                        "size": 2019393189,
                        "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
                        "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B"},
                    }
                    for name in state.models
                ]
            }
        )

    async def show(request: Request) -> Response:
        model = (await request.json()).get("model", "")
        if isinstance(state, FakeOllama):
            state.shown.append(model)
        if model not in state.models:
            return JSONResponse({"error": f"model '{model}' not found"}, status_code=404)
        values = thinking_values(model)
        sees = isinstance(state, FakeOllama) and model in state.vision_models
        capabilities = ["completion", *(["thinking"] if values is not None else []), *(["vision"] if sees else [])]
        shown: dict[str, object] = {
            "modified_at": _now(),
            "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B", "quantization_level": "Q4_K_M"},
            "capabilities": capabilities,
        }
        if values is not None:
            shown["thinking"] = {"values": values, "default": values[-1] if values else True}
        return JSONResponse(shown)

    async def embed(request: Request) -> Response:
        """`POST /api/embed`: `{"model", "input": text or [texts]}` → `{"model", "embeddings", ...}`."""
        body = await request.json()
        embedder = state.embedder
        model, inputs = body.get("model") or "", inputs_of(body)
        embedder.seen(inputs or [])
        if not model:
            return JSONResponse({"error": "model is required"}, status_code=400)
        if embedder.status != 200:
            return JSONResponse({"error": embedder.error}, status_code=embedder.status)
        if model not in embedder.models:
            return JSONResponse({"error": f'model "{model}" not found, try pulling it first'}, status_code=404)
        if inputs is None:
            return JSONResponse({"error": "invalid input type"}, status_code=400)
        return JSONResponse(
            {
                "model": model,
                "embeddings": [embedder.vector(text) for text in inputs],
                "total_duration": 14143917,
                "load_duration": 1019500,
                "prompt_eval_count": sum(len(text.split()) for text in inputs),
            }
        )

    return Starlette(
        routes=[
            Route("/api/chat", chat, methods=["POST"]),
            Route("/api/embed", embed, methods=["POST"]),
            Route("/api/tags", tags),
            Route("/api/show", show, methods=["POST"]),
        ]
    )


async def _stream(state: ScriptedProvider, script: Script, model: str) -> AsyncIterator[bytes]:
    state.started.set()
    try:
        for thought in script.thinking:
            if script.delay:
                await asyncio.sleep(script.delay)
            yield _line(
                {
                    "model": model,
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": "", "thinking": thought},
                    "done": False,
                }
            )
        for index, token in enumerate(script.tokens):
            if index == script.error_after:
                yield _line({"error": script.error})
                return
            if index == script.drop_after:
                raise DropConnection
            if index == script.stall_after:
                await asyncio.sleep(3600)
            if script.delay:
                await asyncio.sleep(script.delay)
            yield _line(
                {
                    "model": model,
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": token},
                    "done": False,
                }
            )
        if script.error_after is not None and script.error_after >= len(script.tokens):
            yield _line({"error": script.error})
            return
        if script.drop_after is not None and script.drop_after >= len(script.tokens):
            raise DropConnection
        if script.tool_calls:  # whole, in one line: Ollama parses a call out of the model's text before sending it
            calls = [
                {"function": {"index": i, "name": c.name, "arguments": c.arguments}}
                for i, c in enumerate(script.tool_calls)
            ]
            message = {"role": "assistant", "content": "", "tool_calls": calls}
            yield _line({"model": model, "created_at": _now(), "message": message, "done": False})
        yield _line(
            {
                "model": model,
                "created_at": _now(),
                "message": {"role": "assistant", "content": ""},
                "done_reason": "length" if script.cut_off else "stop",
                "done": True,
                "total_duration": 4883583458,
                "load_duration": 1334875,
                "prompt_eval_count": script.prompt_tokens,
                "prompt_eval_duration": 342546000,
                "eval_count": script.completion_tokens if script.completion_tokens is not None else len(script.tokens),
                "eval_duration": 4535599000,
            }
        )
        state.completed += 1
    except (asyncio.CancelledError, GeneratorExit):  # the client closed the connection mid-stream
        state.disconnected.set()
        raise


def _invalid_tools(body: dict[str, Any]) -> str | None:
    """Ollama's words for tools it cannot read; and, stricter than Ollama (which pairs nothing), a `tool` message
    whose `tool_name` no earlier call had, so a test sees a result sent back under the wrong name."""
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not function.get("name"):
            return "json: cannot unmarshal tools: a tool needs function.name"
    called: list[str] = []
    for message in body.get("messages") or []:
        called.extend(str((c.get("function") or {}).get("name")) for c in message.get("tool_calls") or [])
        if message.get("role") == "tool" and message.get("tool_name") not in called:
            return f"tool result for '{message.get('tool_name')}' does not follow a call of that tool"
    return None


def _line(obj: dict[str, object]) -> bytes:
    return (json.dumps(obj) + "\n").encode()
