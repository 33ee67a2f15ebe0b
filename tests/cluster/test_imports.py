"""One import per user over every instance: the slot is taken before the upload is read, and any instance answers
how an import goes (the slot and the job's state are in Redis, `chatui.transfer.shared`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as redis

from testing.exports import chatgpt_conversation
from testing.live import LiveApp
from testing.waiting import until
from tests.api.conftest import Account
from tests.redis_server import redis_url

BOUNDARY = "chatui-test-boundary"


@pytest.fixture
async def bea(pair: tuple[LiveApp, LiveApp]) -> AsyncIterator[Account]:
    a, _ = pair
    async with httpx.AsyncClient(base_url=a.url, timeout=10) as client:
        yield await Account.sign_up(client, "importer")


def multipart(content: bytes) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="c.json"\r\n'
        f"Content-Type: application/json\r\n\r\n".encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


async def upload(app: LiveApp, account: Account, content: bytes) -> httpx.Response:
    async with httpx.AsyncClient(base_url=app.url, cookies={"chatui_session": account.cookie}, timeout=20) as client:
        return await client.post("/api/import", files={"file": ("c.json", content, "application/json")})


async def test_an_upload_under_way_on_a_refuses_a_second_import_on_b_then_b_follows_it(pair, bea):
    a, b = pair
    body = multipart(json.dumps([chatgpt_conversation("slow", "Slow upload")]).encode())
    reader, writer = await asyncio.open_connection("127.0.0.1", a.port)
    writer.write(
        f"POST /api/import HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: chatui_session={bea.cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body[:100]
    )
    await writer.drain()
    me = (await bea.client.get("/api/auth/me")).json()["id"]
    slot = f"{a.env['CHATUI_REDIS_PREFIX']}import-slot:{me}"
    async with redis.Redis.from_url(redis_url()) as client:
        await until(lambda: client.exists(slot), what="A to take the slot while the upload is still coming")

    refused = await upload(b, bea, json.dumps([chatgpt_conversation("second")]).encode())
    assert refused.status_code == 409 and refused.json()["reason"] == "import_running"
    assert "already being uploaded or running" in refused.json()["detail"]
    assert (await upload(a, bea, b"[]")).status_code == 409  # and on A itself

    writer.write(body[100:])
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
    assert status_line.split()[1] == b"202"
    length = int(next(h for h in status_line.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1])
    job = json.loads(await reader.readexactly(length))["job_id"]
    writer.close()

    async with httpx.AsyncClient(base_url=b.url, cookies={"chatui_session": bea.cookie}, timeout=10) as on_b:

        async def ended() -> dict | None:
            state = (await on_b.get(f"/api/import/{job}")).json()
            return state if state["status"] != "running" else None

        state = await until(ended, within=30, what="the import run by A to end, as B sees it")
        assert (state["status"], state["conversations"], state["errors"]) == ("done", 1, [])
    again = await upload(b, bea, json.dumps([chatgpt_conversation("second")]).encode())
    assert again.status_code == 202  # the slot was freed with the end
