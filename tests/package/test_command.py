"""`python -m chatui` and `main.py` are the `chatui` command: the same flags, `--version`, and a server that serves."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import httpx
import pytest

from testing.live import ROOT, LiveApp

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.mark.parametrize("command", [["-m", "chatui"], ["main.py"]])
def test_version_is_printed_without_starting_anything(command: list[str], tmp_path) -> None:
    done = subprocess.run([sys.executable, *command, "--version"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == f"chatui {VERSION}"


def test_python_m_chatui_serves(tmp_path, ollama_server) -> None:
    app = LiveApp(
        tmp_path / "data", {"OLLAMA_BASE_URL": ollama_server[1].url}, command=[sys.executable, "-m", "chatui"]
    ).start()
    try:
        assert httpx.get(f"{app.url}/api/health").json() == {"status": "ok"}
        assert f"kept in {tmp_path / 'data'}" in app.log()  # a new folder: the first start says where
    finally:
        app.stop()
