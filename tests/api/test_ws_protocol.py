"""`/ws/{conversation_id}` against a live server, with a real WebSocket client — the product spec's scenario first."""

from __future__ import annotations

import json
import sqlite3

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from testing.fakes.server import Script

QUESTION = "What is 5 plus 3? Give me a very brief answer."


async def frames_until_done(ws: ClientConnection, limit: int = 10_000) -> list[dict]:
    frames = []
    for _ in range(limit):
        frame = json.loads(await ws.recv())
        frames.append(frame)
        if frame["type"] == "done":
            return frames
    raise AssertionError("no done frame")


async def next_frame(ws: ClientConnection) -> dict:
    return json.loads(await ws.recv())


async def test_spec_scenario_streams_tokens_then_done_and_stores_both(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=["8", "."]))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with connect(f"{live_app.ws_url}/ws/{conversation_id}", additional_headers=alice.cookie_header) as ws:
        await ws.send(json.dumps({"type": "message", "content": QUESTION}))
        frames = await frames_until_done(ws)
    tokens, done = frames[:-1], frames[-1]
    assert [f["type"] for f in tokens] == ["token", "token"]
    assert [f["token"] for f in tokens] == ["8", "."]
    message_id = tokens[0]["message_id"]
    assert all(f["message_id"] == message_id for f in tokens)
    assert done["message_id"] == message_id and done["tokens"] == 2 and done["status"] == "done"

    with sqlite3.connect(live_app.data_dir / "database.db") as db:
        rows = db.execute(
            "SELECT id, role, content FROM messages WHERE conversation_id = ? ORDER BY created_at", (conversation_id,)
        ).fetchall()
        title = db.execute("SELECT title FROM conversations WHERE id = ?", (conversation_id,)).fetchone()[0]
    assert [(r[1], r[2]) for r in rows] == [("user", QUESTION), ("assistant", "8.")]
    assert rows[1][0] == message_id
    assert title == QUESTION  # 46 characters: the whole message


async def test_long_first_message_titles_with_fifty_characters_and_dots(live_app, make_account, fake_ollama):
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with connect(f"{live_app.ws_url}/ws/{conversation_id}", additional_headers=alice.cookie_header) as ws:
        await ws.send(
            json.dumps({"type": "message", "content": "Tell me about Python programming language in one sentence."})
        )
        await frames_until_done(ws)
    detail = (await alice.client.get(f"/api/conversations/{conversation_id}")).json()
    assert detail["title"] == "Tell me about Python programming language in one s..."


async def handshake_status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        async with connect(url, additional_headers=headers or {}):
            return 101
    except websockets.exceptions.InvalidStatus as exc:
        return exc.response.status_code


async def test_handshake_refused_with_403(live_app, make_account):
    alice = await make_account()
    bob = await make_account()
    conversation_id = await alice.new_conversation()
    url = f"{live_app.ws_url}/ws/{conversation_id}"
    assert await handshake_status(url, alice.cookie_header) == 101
    assert await handshake_status(url) == 403  # no cookie
    assert await handshake_status(url, {"Cookie": "chatui_session=forged-token-value"}) == 403
    assert await handshake_status(url, bob.cookie_header) == 403  # someone else's conversation
    assert (
        await handshake_status(f"{live_app.ws_url}/ws/00000000-0000-4000-8000-000000000000", alice.cookie_header) == 403
    )
    foreign = {**alice.cookie_header, "Origin": "http://evil.example"}
    assert await handshake_status(url, foreign) == 403
    own = {**alice.cookie_header, "Origin": live_app.url}
    assert await handshake_status(url, own) == 101
    doomed = await alice.new_conversation()
    doomed_url = f"{live_app.ws_url}/ws/{doomed}"
    assert await handshake_status(doomed_url, alice.cookie_header) == 101  # its owner, checked just now ...
    assert (await alice.client.delete(f"/api/conversations/{doomed}")).status_code == 204
    assert await handshake_status(doomed_url, alice.cookie_header) == 403  # ... is not reused once it is deleted
    revoked = alice.cookie_header
    assert (await alice.client.post("/api/auth/logout")).status_code == 204
    assert await handshake_status(url, revoked) == 403


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        (json.dumps({"type": "dance"}), "unknown_type"),
        (json.dumps(["message"]), "unknown_type"),
        (json.dumps({"type": "message", "content": "   "}), "empty_message"),
        (json.dumps({"type": "message", "content": "x" * 32_001}), "message_too_long"),
        (json.dumps({"type": "message", "content": 42}), "invalid_message"),
        ('{"type": "message", "content": "lone \\ud800 surrogate"}', "invalid_message"),
        (json.dumps({"type": "message", "content": "nul \u0000 byte"}), "invalid_message"),
        (json.dumps({"type": "stop"}), "not_streaming"),
    ],
)
async def test_bad_frames_get_error_frames_and_the_socket_stays_usable(
    live_app, make_account, fake_ollama, frame, code
):
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with connect(f"{live_app.ws_url}/ws/{conversation_id}", additional_headers=alice.cookie_header) as ws:
        await ws.send(frame)
        error = await next_frame(ws)
        assert error["type"] == "error" and error["code"] == code and error["error"]
        assert await alice.messages(conversation_id) == []  # nothing invalid is saved
        await ws.send(json.dumps({"type": "message", "content": "still there?"}))
        frames = await frames_until_done(ws)
        assert frames[-1]["status"] == "done"
    assert [m["role"] for m in await alice.messages(conversation_id)] == ["user", "assistant"]


async def test_second_message_while_streaming_is_busy(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=["slow"] * 20, delay=0.05))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with connect(f"{live_app.ws_url}/ws/{conversation_id}", additional_headers=alice.cookie_header) as ws:
        await ws.send(json.dumps({"type": "message", "content": "first"}))
        first = await next_frame(ws)
        assert first["type"] == "token"
        await ws.send(json.dumps({"type": "message", "content": "second"}))
        frames = await frames_until_done(ws)
    busy = [f for f in frames if f["type"] == "error"]
    assert [f["code"] for f in busy] == ["busy"]
    assert [m["content"] for m in await alice.messages(conversation_id) if m["role"] == "user"] == ["first"]


async def test_provider_error_becomes_an_error_frame_then_done(live_app, make_account, fake_ollama):
    fake_ollama.then(Script(tokens=["par", "tial", "x"], error_after=2, error="CUDA out of memory"))
    alice = await make_account()
    conversation_id = await alice.new_conversation()
    async with connect(f"{live_app.ws_url}/ws/{conversation_id}", additional_headers=alice.cookie_header) as ws:
        await ws.send(json.dumps({"type": "message", "content": "go"}))
        frames = await frames_until_done(ws)
    error = next(f for f in frames if f["type"] == "error")
    assert error["code"] == "provider_error" and "CUDA out of memory" in error["error"]
    assert error["message_id"] == frames[-1]["message_id"]
    assert frames[-1]["status"] == "error"
    reply = (await alice.messages(conversation_id))[1]
    assert (reply["content"], reply["status"]) == ("partial", "error")


async def test_stalled_provider_ends_in_an_error_frame(tmp_path, ollama_server, fake_ollama):
    from testing.live import LiveApp
    from tests.api.conftest import Account

    _, ollama = ollama_server
    app = LiveApp(tmp_path / "data", {"OLLAMA_BASE_URL": ollama.url, "CHATUI_READ_TIMEOUT": "0.5"}).start()
    try:
        import httpx

        async with httpx.AsyncClient(base_url=app.url) as client:
            account = await Account.sign_up(client, "stally")
            conversation_id = await account.new_conversation()
            fake_ollama.then(Script(tokens=["a", "b"], stall_after=1))
            async with connect(f"{app.ws_url}/ws/{conversation_id}", additional_headers=account.cookie_header) as ws:
                await ws.send(json.dumps({"type": "message", "content": "go"}))
                frames = await frames_until_done(ws)
        error = next(f for f in frames if f["type"] == "error")
        assert error["code"] == "provider_error" and error["reason"] == "timeout"
        assert frames[-1]["status"] == "error"
    finally:
        app.stop()
