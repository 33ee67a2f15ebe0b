"""`python main.py migrate-db --to postgresql://...`: every row of a SQLite database filled through the app, checked."""

from __future__ import annotations

import httpx
from sqlalchemy import create_engine, text

from storage import migrate
from storage.database import sync_url
from testing.live import LiveApp
from tests.operations.helpers import dump, filled_app, long_reply, run_command, tokens_for
from tests.postgres import drop_postgres_database, fresh_postgres_database

POISON = """
CREATE FUNCTION refuse_interrupted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'interrupted' THEN RAISE EXCEPTION 'refused by the test'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_interrupted BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_interrupted();
"""


async def test_every_row_moves_to_postgresql_and_the_app_runs_on_it(tmp_path, ollama_server, fake_ollama):
    data_dir = tmp_path / "data"
    env = {"OLLAMA_BASE_URL": ollama_server[1].url}
    async with filled_app(data_dir, ollama_server[1].url, fake_ollama) as (app, filled):
        alice = filled.accounts["alice"]
        async with long_reply(alice, app, fake_ollama) as (crashed, ws, _):
            await tokens_for(ws, 1.5)
            app.kill()  # the reply becomes `interrupted` at the next start
    cookie = alice.cookie
    app = LiveApp(data_dir, env).start()
    target = fresh_postgres_database()
    try:
        refused = run_command("migrate-db", "--to", target, data_dir=data_dir)
        assert refused.returncode == 1 and "in use" in refused.stderr  # the app runs on the source
        app.stop()

        engine = create_engine(sync_url(target))
        with engine.begin() as connection:  # a target that fails late: after users, sessions, conversations
            migrate.upgrade(connection)
            connection.execute(text(POISON))
        failed = run_command("migrate-db", "--to", target, data_dir=data_dir)
        assert failed.returncode == 1 and "rolled back" in failed.stderr and "refused by the test" in failed.stderr
        assert not any(dump(target).values()), "a failed copy left rows behind"
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_interrupted ON messages"))
        engine.dispose()

        done = run_command("migrate-db", "--to", target, data_dir=data_dir)  # run again after the failure
        assert done.returncode == 0, done.stderr
        source, copied = dump(f"sqlite:///{data_dir / 'database.db'}"), dump(target)
        assert copied == source
        assert {m.status for m in copied["messages"]} == {"done", "cancelled", "error", "interrupted"}
        assert len(copied["users"]) == 2 and len(copied["sessions"]) >= 3
        assert len(copied["files"]) == 2 and len(copied["blob_chunks"]) > 2  # the file store, chunk by chunk
        parents = [m.parent_id for m in copied["messages"] if m.role == "assistant"]
        assert any(parents.count(parent) == 2 for parent in parents)  # the regenerated reply: a branch

        again = run_command("migrate-db", "--to", target, data_dir=data_dir)
        assert again.returncode == 1 and "not empty" in again.stderr
        assert dump(target) == copied

        app = LiveApp(data_dir, {**env, "DATABASE_URL": target}).start()
        async with httpx.AsyncClient(base_url=app.url, cookies={"chatui_session": cookie}) as client:
            assert (await client.get("/api/auth/me")).json()["username"] == "alice"  # the same session, moved
            messages = (await client.get(f"/api/conversations/{crashed}")).json()["messages"]
            assert messages[-1]["status"] == "interrupted" and messages[-1]["content"].startswith("w0 w1")
            for file_id, data in filled.files.items():
                assert (await client.get(f"/api/files/{file_id}")).content == data
            conversation = await client.post("/api/conversations", json={})
            assert conversation.status_code == 201  # and it goes on from there
    finally:
        app.stop()
        drop_postgres_database(target)


def test_only_an_empty_postgresql_database_is_a_target(tmp_path):
    sqlite_target = run_command("migrate-db", "--to", f"sqlite:///{tmp_path}/other.db", data_dir=tmp_path / "data")
    assert sqlite_target.returncode == 1 and "postgresql://" in sqlite_target.stderr
    from_postgres = run_command(
        "migrate-db", "--to", "postgresql:///x", data_dir=tmp_path, DATABASE_URL="postgresql:///chatui"
    )
    assert from_postgres.returncode == 1 and "copies from the SQLite database" in from_postgres.stderr
