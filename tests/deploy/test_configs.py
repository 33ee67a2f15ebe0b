"""The Caddy and systemd files of `deploy/` load in the tools that read them (each skipped where not installed).

The container files (Dockerfile, deploy/compose.yaml) are checked in tests/deploy/test_container.py."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from testing.live import ROOT

DEPLOY = ROOT / "deploy"


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed (apt-get install caddy)")
@pytest.mark.parametrize("name", ["Caddyfile", "Caddyfile.compose"])
def test_the_caddyfile_is_valid(name):
    result = subprocess.run(
        ["caddy", "validate", "--config", str(DEPLOY / name), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "Valid configuration" in result.stdout + result.stderr, result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_the_systemd_unit_verifies(tmp_path):
    """With this machine's paths for the program, folders and environment file (verify checks that they exist)."""
    unit = (DEPLOY / "chatui.service").read_text()
    for old, new in (
        ("/opt/chatui/.venv/bin/python", sys.executable),
        ("WorkingDirectory=/opt/chatui", f"WorkingDirectory={ROOT}"),
        ("/etc/chatui/chatui.env", str(DEPLOY / "chatui.env")),
        ("User=chatui", "User=root"),
        ("Group=chatui", "Group=root"),
    ):
        assert old in unit, old
        unit = unit.replace(old, new)
    (tmp_path / "chatui.service").write_text(unit)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "chatui.service")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
