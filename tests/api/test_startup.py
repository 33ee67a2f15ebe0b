"""Start-up: refusing unsafe combinations, and the secret generated once into the data folder."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import httpx
import pytest

from chatui.bootstrap import build_services
from chatui.config import Settings
from storage.database import make_private
from testing.fakes.server import free_port
from testing.live import ROOT, LiveApp


def run_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "CHATUI_SINGLE_USER")}
    return subprocess.run(
        [sys.executable, "main.py", "--no-browser", *args],
        cwd=ROOT,
        env={**clean, "CHATUI_ENV_FILE": "", **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_single_user_mode_is_refused_on_a_public_address(tmp_path):
    result = run_main("--single-user", "--host", "0.0.0.0", "--data-dir", str(tmp_path))
    assert result.returncode != 0
    assert "single-user mode" in result.stderr and "0.0.0.0" in result.stderr
    assert not (tmp_path / "database.db").exists()


def test_short_secret_is_refused(tmp_path):
    result = run_main("--data-dir", str(tmp_path), "--port", "1", env={"CHATUI_SECRET": "short"})
    assert result.returncode != 0 and "CHATUI_SECRET must be at least 16 characters" in result.stderr


def test_secret_is_generated_once_and_kept_private(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    first = settings.signing_secret()
    assert len(first) >= 32
    assert settings.signing_secret() == first
    mode = stat.S_IMODE((tmp_path / "secret.key").stat().st_mode)
    assert mode == 0o600
    assert Settings(_env_file=None, data_dir=tmp_path, secret="x" * 20).signing_secret() == b"x" * 20  # type: ignore[call-arg]


def test_postgresql_without_its_driver_names_the_extra_to_install(tmp_path):
    """The default install has no psycopg: a PostgreSQL DATABASE_URL then says which extra to install."""
    without_psycopg = (
        "import runpy, sys; sys.modules['psycopg'] = None; "
        f"sys.argv = ['main.py', '--no-browser', '--data-dir', {str(tmp_path)!r}]; "
        "runpy.run_path('main.py', run_name='__main__')"
    )
    clean = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env = {**clean, "CHATUI_ENV_FILE": "", "DATABASE_URL": "postgresql://127.0.0.1:5432/test"}
    result = subprocess.run(
        [sys.executable, "-c", without_psycopg], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr and "pip install 'chatui[server]'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("content", ["", "   \n", "too-short"])
def test_empty_or_short_secret_file_is_refused(tmp_path, content):
    (tmp_path / "secret.key").write_text(content)
    result = run_main("--data-dir", str(tmp_path), "--port", "1")
    assert result.returncode != 0
    assert "secret.key is empty or shorter than 16 characters" in result.stderr
    assert not (tmp_path / "database.db").exists()  # refused before anything was opened


async def test_data_folder_database_and_secret_are_private(tmp_path, fake_ollama):
    data = tmp_path / "data"
    settings = Settings(_env_file=None, data_dir=data, ollama_base_url=fake_ollama.url, bcrypt_rounds=4)  # type: ignore[call-arg]
    previous = os.umask(0o022)  # the usual umask: files 0644, folders 0755 unless created otherwise
    try:
        services = build_services(settings)
        services.prepare()
        await services.store.accounts.create_user("someone", "!")  # a write: SQLite's -wal and -shm files exist now
        modes = {p.name: (p.is_dir(), stat.S_IMODE(p.stat().st_mode)) for p in data.iterdir()}
        await services.stop()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert {"database.db", "database.db-wal", "database.db-shm", "secret.key"} <= modes.keys()
    assert all(mode == (0o700 if folder else 0o600) for folder, mode in modes.values()), modes


def test_existing_database_files_are_tightened(tmp_path):
    for name in ("database.db", "database.db-wal"):
        (tmp_path / name).touch()
        (tmp_path / name).chmod(0o644)
    make_private(tmp_path / "database.db")
    assert stat.S_IMODE((tmp_path / "database.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "database.db-wal").stat().st_mode) == 0o600


def test_a_second_server_on_the_same_sqlite_file_is_refused(tmp_path, ollama_server):
    """It would mark the first one's streaming replies `interrupted` at its start; the database's lock stops it."""
    first = LiveApp(tmp_path / "data", {"OLLAMA_BASE_URL": ollama_server[1].url}).start()
    try:
        second = run_main("--data-dir", str(tmp_path / "data"), "--port", str(free_port()))
        assert second.returncode != 0 and "in use by another process (chatui server, pid" in second.stderr
        assert httpx.get(f"{first.url}/api/health").status_code == 200
    finally:
        first.stop()
