"""`bench.first_reasoning` reads each wire as it is: the benchmark's fake (`bench.fake_provider`) streams the scripted
reasoning before the text in Ollama's, OpenAI's and Anthropic's shapes, and the direct reader sees each delta's kind."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bench.fake_provider import create_app
from bench.first_reasoning import THOUGHTS, TOKENS, WIRES, delta_kind
from testing.fakes.server import ThreadedServer


@pytest.fixture(scope="module")
def fake() -> Iterator[str]:
    server = ThreadedServer(create_app()).start()
    try:
        spec = {"default": {"tokens": TOKENS, "thinking": THOUGHTS}}
        httpx.put(f"{server.url}/bench/script", json=spec).raise_for_status()
        yield server.url
    finally:
        server.stop()


BODIES = {
    "ollama": {"model": "qwen3:4b", "messages": [{"role": "user", "content": "?"}], "stream": True, "think": True},
    "openai": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "?"}], "stream": True},
    "anthropic": {
        "model": "claude-haiku-4-5",
        "messages": [{"role": "user", "content": "?"}],
        "max_tokens": 4096,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "stream": True,
    },
}


@pytest.mark.parametrize("wire", sorted(WIRES))
def test_reasoning_then_text_then_the_end_in_each_wire(fake: str, wire: str) -> None:
    with httpx.stream("POST", fake + WIRES[wire][1], json=BODIES[wire]) as response:
        assert response.status_code == 200
        kinds = [kind for line in response.iter_lines() if (kind := delta_kind(line))]
    assert kinds == ["thought"] * len(THOUGHTS) + ["text"] * len(TOKENS) + ["end"]
    assert httpx.get(f"{fake}/bench/last").json() == BODIES[wire]  # what the benchmark sends again directly
