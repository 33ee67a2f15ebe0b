"""Start chatui as a real server (`python main.py`) on a free loopback port, for socket and crash tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from testing.fakes.server import free_port

ROOT = Path(__file__).resolve().parent.parent

GENEROUS_LIMITS = {"CHATUI_MESSAGES_PER_MINUTE": "1000", "CHATUI_CONVERSATIONS_PER_MINUTE": "1000"}
"""For servers whose tests send many messages and start many conversations quickly (the limits have their own tests)."""


def module_app(tmp_path_factory: pytest.TempPathFactory, ollama_url: str, name: str, **env: str) -> Iterator[LiveApp]:
    """A live server for one test module, talking to the fake Ollama, with generous message and conversation limits."""
    data_dir = tmp_path_factory.mktemp(name) / "data"
    app = LiveApp(data_dir, {"OLLAMA_BASE_URL": ollama_url, **GENEROUS_LIMITS, **env}).start()
    yield app
    app.stop()


def all_providers_app(
    tmp_path_factory: pytest.TempPathFactory,
    ollama_url: str,
    openai_url: str,
    anthropic_url: str,
    name: str,
    **env: str,
) -> Iterator[LiveApp]:
    """`module_app` with all three network providers, each pointed at its fake (OpenAI-compatible at `/v1`)."""
    yield from module_app(
        tmp_path_factory,
        ollama_url,
        name,
        OPENAI_BASE_URL=f"{openai_url}/v1",
        ANTHROPIC_BASE_URL=anthropic_url,
        ANTHROPIC_API_KEY="sk-ant-test-key",
        **env,
    )


class Loopback:
    """A chatui server listening on 127.0.0.1 at `port`: its HTTP and WebSocket base URLs."""

    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


class LiveApp(Loopback):
    """`python main.py` from the checkout, or `command` (an installed `chatui`, `python -m chatui`) run in `cwd`.

    `data_dir_flag=False` leaves `--data-dir` off the command line, for the tests of the default data folder
    (`data_dir` then says where the app is expected to put it; its parent holds the log either way).
    """

    def __init__(
        self,
        data_dir: Path,
        env: dict[str, str],
        command: Sequence[str] = (sys.executable, "main.py"),
        cwd: Path = ROOT,
        data_dir_flag: bool = True,
    ) -> None:
        self.data_dir = data_dir
        self.command = [*command]
        self.cwd = cwd
        self.data_dir_flag = data_dir_flag
        self.port = free_port()
        self.env = {
            **os.environ,
            "CHATUI_ENV_FILE": "",
            "CHATUI_BCRYPT_ROUNDS": "4",
            "CHATUI_REGISTRATIONS_PER_HOUR": "100000",  # the tests sign many accounts up from 127.0.0.1
            "CHATUI_PROVIDER_RETRIES": "0",
            "CHATUI_AI_TITLES": "false",  # on in the tests of titles only: elsewhere it would add provider requests
            "CHATUI_SIGNUP": "open",  # the tests sign many people up; the sign-up modes have their own tests
            **env,
        }
        for name in (
            "PYTEST_CURRENT_TEST",
            "NICEGUI_USER_SIMULATION",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL",
            "DATABASE_URL",
        ):
            if name not in env:
                self.env.pop(name, None)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"server-{self.port}.log"

    def start(self) -> LiveApp:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        data_dir = ["--data-dir", str(self.data_dir)] if self.data_dir_flag else []
        self.process = subprocess.Popen(
            [*self.command, "--port", str(self.port), "--no-browser", *data_dir],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60  # a deadline, not a wait: ~2 s on a quiet machine, 30 s on a crowded one
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chatui exited at start:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.kill()  # not left running behind the failed test
        raise RuntimeError(f"chatui did not start:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers run, as in a crash or power loss."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
