"""The tests' fake Ollama (testing/fakes/ollama.py) in its own process, with a control endpoint for benchmarks.

    python -m bench.fake_provider --port 11500

It speaks Ollama's NDJSON exactly as the tests' fake does (same code), plus:

    PUT /bench/script   {"default": {"tokens": [...], "delay": 0.02},
                         "by_prompt": {"<last user message>": {"tokens": [...], "delay": 0.02}, ...}}
                        sets what every following `POST /api/chat` streams: the script named by the request's last
                        user message if there is one, else the default. Also forgets the requests seen so far.
    GET  /bench/stats   {"requests": n, "completed": n}

Running in its own process keeps its CPU use off the server's and the benchmark client's event loops.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from testing.fakes.ollama import ollama_app
from testing.fakes.server import Script, ScriptedProvider

MODEL = "llama3.2:3b"
"""The one model the fake serves: chatui's default model, so conversations need no model setting."""


class BenchProvider(ScriptedProvider):
    """Picks the script by the last user message; keeps no history of requests (it would grow without bound)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_prompt: dict[str, Script] = {}
        self.count = 0

    def take(self, body: dict[str, Any], headers: dict[str, str]) -> Script:
        self.count += 1
        messages = body.get("messages") or [{}]
        return self.by_prompt.get(str(messages[-1].get("content", "")), self.default)


def _script(spec: dict[str, Any]) -> Script:
    return Script(tokens=[str(t) for t in spec["tokens"]], delay=float(spec.get("delay", 0.0)))


def create_app() -> Any:
    state = BenchProvider()
    state.models = [MODEL]
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

    app.router.routes.extend(
        [Route("/bench/script", set_script, methods=["PUT"]), Route("/bench/stats", stats, methods=["GET"])]
    )
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_app(), host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
