"""`python main.py backup` while the app runs and a reply streams; `restore` refused while it runs, done after."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat

import httpx

from testing.live import LiveApp
from tests.operations.helpers import dump, filled_app, long_reply, run_command, tokens_for


async def test_backup_while_a_reply_streams_then_restore_once_the_app_is_stopped(tmp_path, ollama_server, fake_ollama):
    data_dir, copy = tmp_path / "data", tmp_path / "backups" / "chatui.db"
    async with filled_app(data_dir, ollama_server[1].url, fake_ollama) as (app, filled):
        alice = filled.accounts["alice"]
        async with long_reply(alice, app, fake_ollama) as (streaming, ws, script):
            before = await tokens_for(ws, 1.5)  # at least one checkpoint has written some of it
            backup_done = asyncio.create_task(asyncio.to_thread(run_command, "backup", str(copy), data_dir=data_dir))
            during = []
            while not backup_done.done():  # the socket keeps streaming while the backup is taken
                during += await tokens_for(ws, 0.1)
            result = await backup_done
            assert result.returncode == 0, result.stderr
            assert "integrity ok" in result.stdout
            assert during, "the reply did not go on streaming during the backup"
            script.delay = 0  # the backup is taken: the rest of the reply need not keep the test waiting ~12 s
            while (frame := json.loads(await ws.recv()))["type"] != "done":
                pass
        assert frame["status"] == "done"

        assert stat.S_IMODE(copy.stat().st_mode) == 0o600  # password and session hashes: its owner's only
        with sqlite3.connect(copy) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        saved, live = dump(f"sqlite:///{copy}"), dump(f"sqlite:///{data_dir / 'database.db'}")
        assert {name for name, rows in saved.items() if rows} >= {"users", "sessions", "conversations", "messages"}
        assert len(saved["blob_chunks"]) > 2 and saved["blob_chunks"] == live["blob_chunks"]  # the file store too
        assert saved["users"] == live["users"] and saved["conversations"] == live["conversations"]
        copied = {row.id: row for row in saved["messages"]}
        for row in live["messages"]:
            if row.status == "done" and row.conversation_id == streaming and row.role == "assistant":
                in_backup = copied[row.id]  # the reply that streamed during the backup: its checkpointed text
                assert in_backup.status == "streaming"
                assert in_backup.content and row.content.startswith(in_backup.content)
                assert "".join(before).startswith(in_backup.content) or in_backup.content.startswith("".join(before))
            else:
                assert copied[row.id] == row  # every other message exactly as it is live
        assert {r.status for r in copied.values()} >= {"done", "cancelled", "error", "streaming"}

        after_backup = await alice.new_conversation(title="written after the backup")
        refused = run_command("restore", str(copy), data_dir=data_dir)
        assert refused.returncode == 1 and "in use" in refused.stderr, refused
        assert (await alice.client.get(f"/api/conversations/{after_backup}")).status_code == 200

    restored = run_command("restore", str(copy), data_dir=data_dir)
    assert restored.returncode == 0, restored.stderr
    assert list(data_dir.glob("database.db.before-restore-*")), "the replaced database was not kept"
    app = LiveApp(data_dir, {"OLLAMA_BASE_URL": ollama_server[1].url}).start()
    try:
        async with httpx.AsyncClient(base_url=app.url) as client:
            login = await client.post("/api/auth/login", json={"username": "alice", "password": "password123"})
            assert login.status_code == 200
            assert (await client.get(f"/api/conversations/{after_backup}")).status_code == 404
            messages = (await client.get(f"/api/conversations/{streaming}")).json()["messages"]
            for file_id, data in filled.files.items():  # the files' bytes came back with the rest
                assert (await client.get(f"/api/files/{file_id}")).content == data
    finally:
        app.stop()
    assert messages[-1]["status"] == "interrupted"  # streaming when backed up: cut off, as after a crash
    assert messages[-1]["content"] == copied[messages[-1]["id"]].content


def test_restore_refuses_a_file_that_is_not_a_chatui_database(tmp_path):
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("hello")
    result = run_command("restore", str(not_a_database), data_dir=tmp_path / "data")
    assert result.returncode == 1 and "not a SQLite database" in result.stderr
    assert not (tmp_path / "data" / "database.db").exists()


def test_backup_and_restore_point_to_pg_dump_on_postgresql(tmp_path):
    for command in ("backup", "restore"):
        result = run_command(command, str(tmp_path / "x.db"), data_dir=tmp_path, DATABASE_URL="postgresql:///chatui")
        assert result.returncode == 1 and "pg_dump" in result.stderr
