"""Start-up: refusing unsafe combinations, and the secret generated once into the data folder."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from chatui.config import Settings
from tests.live import ROOT


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
