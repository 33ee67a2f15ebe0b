"""Reading `/ws` frames in the cluster tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from testing.fakes.server import Script, ScriptedProvider
from testing.live import LiveApp
from tests.api.conftest import Account

SLOW = [f"t{i} " for i in range(150)]


async def frames_until(ws: Any, kind: str) -> list[dict]:
    frames: list[dict] = []
    async with asyncio.timeout(30):
        while not frames or frames[-1]["type"] != kind:
            frames.append(json.loads(await ws.recv()))
    return frames


async def first_tokens(ws: Any, count: int) -> list[dict]:
    frames = []
    async with asyncio.timeout(30):
        while len(frames) < count:
            frame = json.loads(await ws.recv())
            assert frame["type"] == "token", frame
            frames.append(frame)
    return frames


@asynccontextmanager
async def replying(
    account: Account, app: LiveApp, fake: ScriptedProvider, *, first: int = 3, delay: float = 0.02
) -> AsyncIterator[tuple[str, Any, list[dict]]]:
    """A new conversation whose reply (SLOW) streams on `app`: yields its id, the socket, and its `first` tokens."""
    conversation = await account.new_conversation()
    fake.then(Script(tokens=SLOW, delay=delay))
    async with account.socket(app, conversation) as ws:
        await ws.send(json.dumps({"type": "message", "content": "count"}))
        yield conversation, ws, await first_tokens(ws, first)
