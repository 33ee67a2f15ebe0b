"""The tests' fake Ollama (testing/fakes/ollama.py) in its own process, with a control endpoint for benchmarks.

    python -m bench.fake_provider --port 11500

It speaks Ollama's NDJSON exactly as the tests' fake does (same code), and on the same port the tests' OpenAI fake
(`/v1/chat/completions`: base URL `<url>/v1`) and Anthropic fake (`/anthropic/v1/messages`: base URL
`<url>/anthropic`), all playing the same script, plus:

    PUT /bench/script   {"default": {"tokens": [...], "delay": 0.02, "thinking": [...]},
                         "by_prompt": {"<last user message>": {"tokens": [...], "delay": 0.02}, ...}}
                        sets what every following chat request streams: the script named by the request's last
                        user message if there is one, else the default (`thinking`: reasoning deltas streamed
                        before the text, in each wire's own field). Also forgets the requests seen so far.
    GET  /bench/stats   {"requests": n, "completed": n}
    GET  /bench/last    the body of the last chat request (whichever wire): to send the very same request directly

Models: `llama3.2:3b` (chatui's default), `qwen3:4b` (Ollama's `thinking` capability), `gpt-4o-mini` and
`claude-haiku-4-5`; every wire lists all four.

Running in its own process keeps its CPU use off the server's and the benchmark client's event loops.
"""

from __future__ import annotations

import argparse
from collections import deque
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from testing.fakes.anthropic import anthropic_app
from testing.fakes.ollama import ollama_app
from testing.fakes.openai import openai_app
from testing.fakes.server import Script, ScriptedProvider

MODEL = "llama3.2:3b"
"""chatui's default model, so conversations need no model setting."""
THINKING_MODEL = "qwen3:4b"
"""An Ollama model whose `/api/show` lists the `thinking` capability (chatui then sends `think`)."""


class BenchProvider(ScriptedProvider):
    """Picks the script by the last user message; keeps no history of requests (it would grow without bound)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_prompt: dict[str, Script] = {}
        self.count = 0
        self.last: dict[str, Any] = {}
        # What the OpenAI and Anthropic fakes read or note (FakeOpenAI's, FakeAnthropic's), kept bounded.
        self.thinking_models: dict[str, list[bool | str]] = {THINKING_MODEL: [False, True]}
        self.reasoning_field = "reasoning_content"
        self.reject_stream_options = False
        self.images: deque[object] = deque(maxlen=1)
        self.signatures: set[str] = set()

    def take(self, body: dict[str, Any], headers: dict[str, str]) -> Script:
        self.count += 1
        self.last = body
        messages = body.get("messages") or [{}]
        return self.by_prompt.get(str(messages[-1].get("content", "")), self.default)


def _script(spec: dict[str, Any]) -> Script:
    thinking = [str(t) for t in spec.get("thinking") or []]
    return Script(tokens=[str(t) for t in spec["tokens"]], delay=float(spec.get("delay", 0.0)), thinking=thinking)


def create_app() -> Any:
    state = BenchProvider()
    state.models = [MODEL, THINKING_MODEL, "gpt-4o-mini", "claude-haiku-4-5"]
    app = ollama_app(state)

    async def set_script(request: Request) -> Response:
        spec = await request.json()
        state.default = _script(spec.get("default") or {"tokens": ["8", "."]})
        state.by_prompt = {prompt: _script(s) for prompt, s in (spec.get("by_prompt") or {}).items()}
        state.count = 0
        state.completed = 0
        return JSONResponse({"ok": True, "prompts": len(state.by_prompt)})

    async def stats(_: Request) -> Response:
        return JSONResponse({"requests": state.count, "completed": state.completed})

    async def last(_: Request) -> Response:
        return JSONResponse(state.last)

    app.router.routes.extend(
        [
            Route("/bench/script", set_script, methods=["PUT"]),
            Route("/bench/stats", stats, methods=["GET"]),
            Route("/bench/last", last, methods=["GET"]),
            *openai_app(state).routes,
            Mount("/anthropic", routes=anthropic_app(state).routes),
        ]
    )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
