"""A database filled through the running app, the data commands run as a user runs them, and table dumps to compare."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Row, create_engine, select

from storage.database import sync_url
from storage.models import Base
from testing import attachments
from testing.fakes.ollama import FakeOllama
from testing.fakes.server import Script, ScriptedProvider
from testing.live import GENEROUS_LIMITS, ROOT, LiveApp
from tests.api.conftest import Account

LONG_REPLY = [f"w{i} " for i in range(1500)]


def run_command(*args: str, data_dir: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """`python main.py <args> --data-dir <data_dir>`, as an administrator types it."""
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "main.py", *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        env={**clean, "CHATUI_ENV_FILE": "", "CHATUI_BCRYPT_ROUNDS": "4", **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def reply(
    account: Account,
    app: LiveApp,
    conversation_id: str,
    content: str | None,
    *,
    stop_after: int = 0,
    attachments: tuple[str, ...] = (),
) -> dict:
    """Send a message (None: regenerate the last reply) over `/ws`, with these files, and read until `done` (sending
    `stop` after `stop_after` tokens, if given)."""
    frame: dict[str, Any] = {"type": "regenerate"}
    if content is not None:
        frame = {"type": "message", "content": content, "attachments": list(attachments)}
    async with account.socket(app, conversation_id) as ws:
        await ws.send(json.dumps(frame))
        tokens = 0
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "token":
                tokens += 1
                if tokens == stop_after:
                    await ws.send(json.dumps({"type": "stop"}))
            elif frame["type"] == "done":
                return frame
            elif frame["type"] == "error" and "message_id" not in frame:  # refused: no reply, so no `done` either
                raise AssertionError(f"the message was refused: {frame}")


@dataclass
class Filled:
    accounts: dict[str, Account] = field(default_factory=dict)
    conversations: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    """alice's files (id → bytes), sent with a message of her first conversation."""


async def fill(app: LiveApp, fake: FakeOllama, client_for: Any) -> Filled:
    """Two users (one signed in twice), three conversations (one with a regenerated reply: two branches), replies
    `done`, `cancelled` and `error`, and a message carrying two files (an image of several chunks, a text)."""
    filled = Filled()
    alice = await Account.sign_up(client_for(), "alice")
    bob = await Account.sign_up(client_for(), "bob")
    again = client_for()
    assert (await again.post("/api/auth/login", json={"username": "alice", "password": "password123"})).is_success
    filled.accounts = {"alice": alice, "bob": bob}
    first = await alice.new_conversation()
    fake.then(Script(tokens=["Paris", "."]), Script(tokens=["Lyon", "."]))
    assert (await reply(alice, app, first, "Capital of France?"))["status"] == "done"
    assert (await reply(alice, app, first, "And the second city?"))["status"] == "done"
    fake.then(Script(tokens=["Marseille", "."]))
    assert (await reply(alice, app, first, None))["status"] == "done"  # a second version: the tree branches
    for name, data in (("noise.jpg", attachments.noisy_jpeg(700, 500)), ("notes.txt", b"Bring a map.\n")):
        uploaded = await alice.client.post("/api/files", files={"file": (name, data, "application/octet-stream")})
        assert uploaded.status_code == 201, uploaded.text
        filled.files[uploaded.json()["id"]] = data
    fake.vision_models = {"llama3.2:3b"}  # the chat's model must see the image
    fake.then(Script(tokens=["A", " map."]))
    sent = await reply(alice, app, first, "What should I bring?", attachments=tuple(filled.files))
    assert sent["status"] == "done"
    second = await alice.new_conversation()
    fake.then(Script(tokens=LONG_REPLY, delay=0.01))
    assert (await reply(alice, app, second, "Count slowly", stop_after=5))["status"] == "cancelled"
    fake.then(Script(status=500, error="the model fell over"))
    assert (await reply(alice, app, second, "Try again"))["status"] == "error"
    third = await bob.new_conversation(title="Bob's")
    fake.then(Script(tokens=["Hi", " Bob"]))
    assert (await reply(bob, app, third, "Hello"))["status"] == "done"
    filled.conversations = [first, second, third]
    return filled


@asynccontextmanager
async def long_reply(account: Account, app: LiveApp, fake: ScriptedProvider) -> AsyncIterator[tuple[str, Any, Script]]:
    """A new conversation of `account` whose slow reply (LONG_REPLY, ~15 s) streams to the socket yielded with it,
    and its script: a test that no longer needs the reply slow sets `script.delay = 0` (the fake reads it before each
    delta), and the rest streams at once instead of keeping the test waiting."""
    conversation = await account.new_conversation()
    script = Script(tokens=LONG_REPLY, delay=0.01)
    fake.then(script)
    async with account.socket(app, conversation) as ws:
        await ws.send(json.dumps({"type": "message", "content": "Count slowly"}))
        yield conversation, ws, script


async def tokens_for(ws: Any, seconds: float) -> list[str]:
    """The token frames a socket receives within `seconds`."""
    received: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        frame = json.loads(await ws.recv())
        assert frame["type"] == "token", frame
        received.append(frame["token"])
    return received


def dump(url: str) -> dict[str, list[Row]]:
    """Every row of every table of the models, in primary-key order (rows compare as tuples, read as attributes)."""
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            return {
                table.name: list(connection.execute(select(table).order_by(*table.primary_key.columns)).all())
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


@asynccontextmanager
async def filled_app(data_dir: Path, ollama_url: str, fake: FakeOllama) -> AsyncIterator[tuple[LiveApp, Filled]]:
    """A server on `data_dir`, filled through its API (`fill`); stopped on the way out unless the test stopped it."""
    app = LiveApp(data_dir, {"OLLAMA_BASE_URL": ollama_url, **GENEROUS_LIMITS}).start()
    made: list[httpx.AsyncClient] = []

    def client_for() -> httpx.AsyncClient:
        made.append(httpx.AsyncClient(base_url=app.url, timeout=10))
        return made[-1]

    try:
        yield app, await fill(app, fake, client_for)
    finally:
        for client in made:
            await client.aclose()
        app.stop()
