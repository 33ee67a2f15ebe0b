"""Reading `/ws` frames in the cluster tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any


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
