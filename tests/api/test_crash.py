"""Kill the server with SIGKILL mid-reply, start it again: the partial reply is there, marked interrupted."""

from __future__ import annotations

import json
import sqlite3
import time

import httpx
from websockets.asyncio.client import connect

from testing.fakes.server import Script
from testing.live import LiveApp
from tests.api.conftest import Account


async def test_sigkill_mid_reply_leaves_an_interrupted_reply_with_its_checkpointed_text(
    tmp_path, ollama_server, fake_ollama
):
    _, ollama = ollama_server
    data_dir = tmp_path / "data"
    env = {"OLLAMA_BASE_URL": ollama.url}
    fake_ollama.then(Script(tokens=[f"w{i} " for i in range(1000)], delay=0.01))
    app = LiveApp(data_dir, env).start()
    received: list[tuple[float, str]] = []
    try:
        async with httpx.AsyncClient(base_url=app.url) as client:
            account = await Account.sign_up(client, "crashy")
            conversation_id = await account.new_conversation()
            async with connect(f"{app.ws_url}/ws/{conversation_id}", additional_headers=account.cookie_header) as ws:
                await ws.send(json.dumps({"type": "message", "content": "write a lot"}))
                started = time.monotonic()
                while time.monotonic() - started < 2.5:  # stream for a while: at least two checkpoints pass
                    frame = json.loads(await ws.recv())
                    assert frame["type"] == "token"
                    received.append((time.monotonic(), frame["token"]))
                killed_at = time.monotonic()
                app.kill()
    finally:
        app.kill()

    text = "".join(token for _, token in received)
    a_second_before = "".join(token for at, token in received if at <= killed_at - 1.1)
    assert a_second_before, "too little streamed before the kill"

    with sqlite3.connect(data_dir / "database.db") as db:  # as the crash left it: still 'streaming'
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT status FROM messages WHERE role = 'assistant'").fetchone()[0] == "streaming"

    restarted = LiveApp(data_dir, env).start()
    try:
        async with httpx.AsyncClient(base_url=restarted.url) as client:
            await client.post("/api/auth/login", json={"username": "crashy", "password": "password123"})
            detail = (await client.get(f"/api/conversations/{conversation_id}")).json()
    finally:
        restarted.stop()
    user_message, reply = detail["messages"]
    assert user_message["content"] == "write a lot"
    assert reply["status"] == "interrupted"
    assert reply["content"].startswith(a_second_before)  # at least what was checkpointed a second before the kill
    assert text.startswith(reply["content"])  # and nothing that was never streamed
    assert "stopped" in reply["error"]
