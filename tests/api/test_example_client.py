"""The README's example client runs against a started app and prints the streamed answer."""

from __future__ import annotations

import subprocess
import sys

from testing.fakes.server import Script
from testing.live import ROOT


def test_example_client_prints_the_streamed_answer(live_app, fake_ollama):
    fake_ollama.then(Script(tokens=["The", " answer", " is", " 8", "."]))
    result = subprocess.run(
        [
            sys.executable,
            "examples/ws_client.py",
            "--url",
            live_app.url,
            "--username",
            "example",
            "--password",
            "correct horse",
            "--register",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["The answer is 8.", "[done, 5 tokens]"]
