"""The Ollama adapter against a loopback server speaking Ollama's NDJSON."""

from __future__ import annotations

import asyncio
import base64

import pytest

from providers import ChatMessage, GenerationParams, TextDelta
from providers.errors import ModelNotFound, ProviderUnavailable
from providers.ollama import OllamaProvider
from testing.fakes.server import Script, ScriptedProvider, free_port
from tests.providers.helpers import collect

HELLO = [ChatMessage("user", "What is 5 plus 3? Give me a very brief answer.")]


@pytest.fixture
async def ollama(fake_ollama: ScriptedProvider):
    provider = OllamaProvider(fake_ollama.url, read_timeout=2.0)  # type: ignore[attr-defined]
    yield provider
    await provider.aclose()


async def test_the_request_is_ollamas_chat_with_the_turns_as_messages(ollama, fake_ollama):
    await collect(ollama.stream(HELLO, "llama3.2:3b"))
    sent = fake_ollama.requests[0]
    assert sent["messages"] == [{"role": "user", "content": "What is 5 plus 3? Give me a very brief answer."}]


async def test_system_prompt_and_temperature_go_as_a_system_message_and_options(ollama, fake_ollama):
    params = GenerationParams(system="You are a pirate.", temperature=0.7)
    async for _ in ollama.stream(HELLO, "llama3.2:3b", params):
        pass
    sent = fake_ollama.requests[0]
    assert sent["messages"][0] == {"role": "system", "content": "You are a pirate."}
    assert sent["messages"][1:] == [{"role": "user", "content": HELLO[0].content}]
    assert sent["options"] == {"temperature": 0.7}


async def test_unknown_model_is_a_readable_not_found(ollama, fake_ollama):
    with pytest.raises(ModelNotFound, match="ollama pull nope"):
        await collect(ollama.stream(HELLO, "nope"))


async def test_server_error_status(ollama, fake_ollama):
    fake_ollama.then(Script(status=500, error="llama runner process has terminated"))
    with pytest.raises(Exception, match="llama runner process has terminated"):
        await collect(ollama.stream(HELLO, "llama3.2:3b"))


async def test_more_than_a_hundred_replies_stream_at_once(ollama, fake_ollama):
    """Every streaming reply holds a connection, and none may wait for another to end (aiohttp's default cap: 100)."""
    fake_ollama.default = Script(tokens=["a", "b"], delay=1.5)
    count, everyone_started = 110, asyncio.Event()
    started: list[int] = []

    async def reply() -> list[str]:
        texts = []
        async for event in ollama.stream(HELLO, "llama3.2:3b"):
            if isinstance(event, TextDelta):
                texts.append(event.text)
                if len(texts) == 1:
                    started.append(1)
                    if len(started) == count:
                        everyone_started.set()
        return texts

    replies = [asyncio.create_task(reply()) for _ in range(count)]
    await asyncio.wait_for(everyone_started.wait(), 20)
    assert not any(r.done() for r in replies)  # all first tokens came before any reply ended: none queued
    assert [await r for r in replies] == [["a", "b"]] * count


async def test_credentials_in_the_url_become_basic_auth_and_are_never_shown(fake_ollama):
    port = fake_ollama.url.rsplit(":", 1)[1]  # type: ignore[attr-defined]
    provider = OllamaProvider(f"http://alice:s%3Ecret-pw@127.0.0.1:{port}/", read_timeout=2.0)
    try:
        fake_ollama.then(Script(tokens=["fine"]))
        texts, _ = await collect(provider.stream(HELLO, "llama3.2:3b"))
        assert texts == ["fine"]
        assert fake_ollama.headers[0]["authorization"] == "Basic " + base64.b64encode(b"alice:s>cret-pw").decode()
        assert provider.display_name == f"Ollama at http://127.0.0.1:{port}"
    finally:
        await provider.aclose()


async def test_an_unreachable_url_with_secrets_is_named_without_them():
    provider = OllamaProvider(f"http://alice:hunter2@127.0.0.1:{free_port()}/ollama?token=t0ps3cret")
    try:
        with pytest.raises(ProviderUnavailable) as error:
            await collect(provider.stream(HELLO, "llama3.2:3b"))
    finally:
        await provider.aclose()
    assert "127.0.0.1" in error.value.message and "token=***" in error.value.message
    assert not any(secret in str(error.value) for secret in ("alice", "hunter2", "t0ps3cret"))
