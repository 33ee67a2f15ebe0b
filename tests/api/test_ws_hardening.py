"""`/ws` against hostile clients: odd frames, huge frames, too many sockets, and a session that ends while open."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator

import httpx
import pytest
import websockets
from websockets.asyncio.client import connect

from testing.fakes.server import ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from testing.waiting import until
from tests.api.conftest import Account
from tests.api.test_ws_protocol import frames_until_done, handshake_status, next_frame
from tests.page_socket import PageSocket


async def still_answers(ws: websockets.asyncio.client.ClientConnection) -> bool:
    await ws.send(json.dumps({"type": "ping"}))
    return (await next_frame(ws)) == {"type": "pong"}


async def test_a_binary_frame_gets_an_error_frame_and_the_socket_stays(live_app, make_account):
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(b'{"type": "ping"}')
        error = await next_frame(ws)
        assert error["type"] == "error" and error["code"] == "binary_frame"
        assert await still_answers(ws)


async def test_a_100000_deep_json_frame_gets_an_error_frame_and_the_socket_stays(live_app, make_account):
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send("[" * 100_000 + "]" * 100_000)
        error = await next_frame(ws)
        assert error["type"] == "error" and error["code"] == "invalid_json"
        assert await still_answers(ws)


async def test_a_frame_over_the_size_limit_is_refused_with_1009(live_app, make_account):
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": "x" * 300_000}))
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert await alice.messages(conversation_id) == []


async def test_the_longest_message_fits_under_the_limit_even_escaped(live_app, make_account, fake_ollama):
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    content = "é" * 32_000  # json.dumps escapes each as \\u00e9: 192 KB on the wire
    async with alice.socket(live_app, conversation_id) as ws:
        await ws.send(json.dumps({"type": "message", "content": content}))
        frames = await frames_until_done(ws)
    assert frames[-1]["status"] == "done"
    assert (await alice.messages(conversation_id))[0]["content"] == content


@pytest.fixture(scope="module")
def capped_app(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    yield from module_app(
        tmp_path_factory,
        ollama_server[1].url,
        "capped",
        CHATUI_MAX_SOCKETS_PER_SESSION="2",
        CHATUI_MAX_SOCKETS_PER_USER="3",
        CHATUI_MAX_PAGES_PER_SESSION="2",
    )


async def status_soon(url: str, headers: dict[str, str], expected: int) -> int:
    """The handshake's status, retried for a few seconds until it is `expected` (a closed socket frees its slot
    once the server has seen the close)."""

    async def as_expected() -> int | None:
        status = await handshake_status(url, headers)
        return status if status == expected else None

    return await until(as_expected, within=5, every=0.1, what=f"a handshake answered {expected}")


async def test_sockets_per_session_and_per_user_are_capped_at_the_handshake(capped_app: LiveApp) -> None:
    async with (
        httpx.AsyncClient(base_url=capped_app.url) as first,
        httpx.AsyncClient(base_url=capped_app.url) as second,
    ):
        account = await Account.sign_up(first, "many-sockets")
        assert (
            await second.post("/api/auth/login", json={"username": "many-sockets", "password": "password123"})
        ).is_success
        other_session = {"Cookie": f"chatui_session={second.cookies['chatui_session']}"}
        conversation_id = await account.new_conversation()
        url = f"{capped_app.ws_url}/ws/{conversation_id}"
        async with (
            connect(url, additional_headers=account.cookie_header) as one,
            connect(url, additional_headers=account.cookie_header),
        ):
            assert await handshake_status(url, account.cookie_header) == 403  # a third for this session
            async with connect(url, additional_headers=other_session):
                assert await handshake_status(url, other_session) == 403  # a fourth for this user
            await one.close()
            assert await status_soon(url, account.cookie_header, 101) == 101  # a closed one frees its slot


async def test_pages_per_session_are_capped(capped_app: LiveApp) -> None:
    async with httpx.AsyncClient(base_url=capped_app.url) as http:
        account = await Account.sign_up(http, "many-pages")
        pages = [await PageSocket.open(capped_app.url, "/", account.cookie) for _ in range(2)]
        try:
            refused = await http.get("/")
            assert refused.status_code == 429 and "too many pages" in refused.text
        finally:
            for page in pages:
                await page.close()


@pytest.fixture(scope="module")
def short_sessions(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    yield from module_app(tmp_path_factory, ollama_server[1].url, "short", CHATUI_SESSION_MAX_DAYS=str(6 / 86400))


async def test_an_open_socket_and_page_close_when_the_session_expires(short_sessions: LiveApp) -> None:
    async with httpx.AsyncClient(base_url=short_sessions.url) as http:
        account = await Account.sign_up(http, "expiring")
        conversation_id = await account.new_conversation(title="Keep me")
        page = await PageSocket.open(short_sessions.url, f"/chat/{conversation_id}", account.cookie)
        delete = page.find("Delete")
        assert delete is not None
        try:
            async with account.socket(short_sessions, conversation_id) as ws:
                assert await still_answers(ws)
                async with asyncio.timeout(10):
                    error = await next_frame(ws)  # nothing was sent: the server speaks at the expiry
                assert error["code"] == "signed_out"
                with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert (await page.wait_for("open"))["path"] == "/login"
            await page.click(delete)
            assert await page.wait_for_text("Delete conversation?", within=1.5) is None
        finally:
            await page.close()
        assert (await http.get(f"/api/conversations/{conversation_id}")).status_code == 401
    with sqlite3.connect(short_sessions.data_dir / "database.db") as db:
        assert db.execute("SELECT title FROM conversations WHERE id = ?", (conversation_id,)).fetchone() == ("Keep me",)
