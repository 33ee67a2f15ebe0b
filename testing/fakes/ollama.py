"""A fake Ollama: `POST /api/chat` streams NDJSON exactly as Ollama does, `GET /api/tags` lists models.

Shapes follow Ollama's API reference (docs/api.md): each line is a chat response object; the last has
`"done": true`, `done_reason`, durations and `prompt_eval_count`/`eval_count`. Errors are `{"error": "..."}`
with the HTTP status, or an `{"error": "..."}` line in the stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from testing.fakes.server import DropConnection, Script, ScriptedProvider


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def ollama_app(state: ScriptedProvider) -> Starlette:
    async def chat(request: Request) -> Response:
        body = await request.json()
        script = state.take(body, dict(request.headers))
        model = body.get("model", "")
        if script.status != 200:
            headers = {"Retry-After": script.retry_after} if script.retry_after else None
            error = f"model '{model}' not found" if script.status == 404 else script.error
            return JSONResponse({"error": error}, status_code=script.status, headers=headers)
        if model not in state.models:
            return JSONResponse({"error": f"model '{model}' not found"}, status_code=404)
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

    return Starlette(routes=[Route("/api/chat", chat, methods=["POST"]), Route("/api/tags", tags)])


async def _stream(state: ScriptedProvider, script: Script, model: str) -> AsyncIterator[bytes]:
    state.started.set()
    try:
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
        yield _line(
            {
                "model": model,
                "created_at": _now(),
                "message": {"role": "assistant", "content": ""},
                "done_reason": "stop",
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


def _line(obj: dict[str, object]) -> bytes:
    return (json.dumps(obj) + "\n").encode()
