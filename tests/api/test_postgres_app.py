"""The whole app on PostgreSQL (`DATABASE_URL`): the spec's /ws scenario, and a restart after a kill."""

from __future__ import annotations

import json

import httpx
import psycopg
from websockets.asyncio.client import connect

from testing.fakes.server import Script
from testing.live import LiveApp
from tests.api.conftest import Account
from tests.postgres import drop_postgres_database, fresh_postgres_database


async def test_spec_scenario_and_restart_on_postgresql(tmp_path, ollama_server, fake_ollama):
    _, ollama = ollama_server
    url = fresh_postgres_database()
    env = {"OLLAMA_BASE_URL": ollama.url, "DATABASE_URL": url}
    app = LiveApp(tmp_path / "data", env).start()
    try:
        async with httpx.AsyncClient(base_url=app.url) as client:
            account = await Account.sign_up(client, "pguser")
            conversation_id = await account.new_conversation()
            fake_ollama.then(Script(tokens=["8", "."]))
            async with connect(f"{app.ws_url}/ws/{conversation_id}", additional_headers=account.cookie_header) as ws:
                await ws.send(json.dumps({"type": "message", "content": "What is 5 plus 3?"}))
                frames = []
                while not frames or frames[-1]["type"] != "done":
                    frames.append(json.loads(await ws.recv()))
        assert [f["token"] for f in frames[:-1]] == ["8", "."] and frames[-1]["tokens"] == 2
        app.kill()
        assert not (tmp_path / "data" / "database.db").exists()  # nothing went to SQLite

        with psycopg.connect(url) as db:
            rows = db.execute("SELECT role, content, status FROM messages ORDER BY created_at").fetchall()
            title = db.execute("SELECT title FROM conversations").fetchone()[0]
        assert [tuple(r) for r in rows] == [("user", "What is 5 plus 3?", "done"), ("assistant", "8.", "done")]
        assert title == "What is 5 plus 3?"

        app = LiveApp(tmp_path / "data", env).start()  # the schema exists already: starting again is fine
        async with httpx.AsyncClient(base_url=app.url) as client:
            login = await client.post("/api/auth/login", json={"username": "pguser", "password": "password123"})
            assert login.status_code == 200
            assert len((await client.get(f"/api/conversations/{conversation_id}")).json()["messages"]) == 2
    finally:
        app.stop()
        drop_postgres_database(url)
