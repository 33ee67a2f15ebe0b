"""`python main.py reset-password USERNAME` for an administrator locked out, while the app runs."""

from __future__ import annotations

import httpx

from testing.live import LiveApp
from tests.api.conftest import Account
from tests.operations.helpers import run_command


async def test_a_new_password_works_at_once_and_every_old_session_ends(tmp_path, ollama_server):
    data_dir = tmp_path / "data"
    app = LiveApp(data_dir, {"OLLAMA_BASE_URL": ollama_server[1].url}).start()
    try:
        async with httpx.AsyncClient(base_url=app.url) as client:
            admin = await Account.sign_up(client, "Admin", "forgotten password")
            assert (await client.get("/api/auth/me")).status_code == 200
            weak = run_command("reset-password", "Admin", "--password-stdin", data_dir=data_dir, stdin="short\n")
            assert weak.returncode == 1 and "at least 8 characters" in weak.stderr
            assert (await client.get("/api/auth/me")).status_code == 200  # a refused reset changes nothing

            result = run_command(
                "reset-password", "admin", "--password-stdin", data_dir=data_dir, stdin="brand new secret\n"
            )
            assert result.returncode == 0, result.stderr
            assert "sessions have ended" in result.stdout

            assert (await client.get("/api/auth/me")).status_code == 401  # the old session is over
            old = {"username": "Admin", "password": admin.password}
            assert (await client.post("/api/auth/login", json=old)).status_code == 401
            new = {"username": "Admin", "password": "brand new secret"}
            assert (await client.post("/api/auth/login", json=new)).status_code == 200
    finally:
        app.stop()


def test_an_unknown_name_changes_nothing(tmp_path):
    result = run_command("reset-password", "nobody", "--password-stdin", data_dir=tmp_path, stdin="long enough\n")
    assert result.returncode == 1 and "no account named 'nobody'" in result.stderr
