"""The benchmarks' clients: accounts and conversations through the JSON API, and one reply read over `/ws` (with
`websockets` or aiohttp), straight from the fake provider, or through chatui's own Ollama client."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass, field

import aiohttp
import httpx
from websockets.asyncio.client import ClientConnection

from providers import ChatMessage, TextDelta
from providers.ollama import OllamaProvider

MODEL = "llama3.2:3b"
PASSWORD = "bench-password-123"


@dataclass
class Account:
    username: str
    cookie: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"chatui_session={self.cookie}"}


async def create_accounts(base_url: str, count: int, prefix: str = "bench", concurrency: int = 8) -> list[Account]:
    """`count` accounts, each registered and signed in through the JSON API."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Account:
        username = f"{prefix}{index:04d}"
        credentials = {"username": username, "password": PASSWORD}
        async with gate, httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            response = await client.post("/api/auth/register", json=credentials)
            assert response.status_code in (201, 409), response.text
            response = await client.post("/api/auth/login", json=credentials)
            assert response.status_code == 200, response.text
            return Account(username, response.cookies["chatui_session"])

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def create_conversations(base_url: str, accounts: Sequence[Account], concurrency: int = 8) -> list[str]:
    """One new conversation per account, in the same order."""
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def one(account: Account) -> str:
            async with gate:
                response = await client.post("/api/conversations", json={}, headers=account.headers)
                assert response.status_code == 201, response.text
                return str(response.json()["id"])

        return list(await asyncio.gather(*(one(a) for a in accounts)))


# -- one reply ----------------------------------------------------------------------------------------------------


@dataclass
class Reply:
    """Timings (time.perf_counter) and text of one reply, however it was obtained."""

    sent: float = 0.0
    first: float | None = None
    first_thought: float | None = None
    """When the first reasoning delta arrived (a `reasoning` frame over `/ws`)."""
    thoughts: list[str] = field(default_factory=list)
    done: float | None = None
    tokens: list[str] = field(default_factory=list)
    status: str | None = None
    error: str | None = None

    @property
    def ttft(self) -> float | None:
        return None if self.first is None else self.first - self.sent

    @property
    def total(self) -> float | None:
        return None if self.done is None else self.done - self.sent


async def ws_reply(ws: ClientConnection, content: str, reply: Reply, limit: float = 60) -> Reply:
    """Send a message over an open `/ws` socket and read frames until its `done` (or an error without one)."""
    reply.sent = time.perf_counter()
    await ws.send(json.dumps({"type": "message", "content": content}))
    return await read_reply(ws, reply, limit)


async def aiohttp_ws_reply(ws: aiohttp.ClientWebSocketResponse, content: str, reply: Reply, limit: float = 60) -> Reply:
    """`ws_reply` on aiohttp's client, whose frame reader is compiled: cheaper per frame than `websockets`."""

    async def texts() -> AsyncIterator[str]:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                return
            yield message.data

    reply.sent = time.perf_counter()
    await ws.send_str(json.dumps({"type": "message", "content": content}))
    return await read_reply(texts(), reply, limit)


async def read_reply(frames: AsyncIterable[str | bytes], reply: Reply, limit: float) -> Reply:
    """Token frames into `reply` until its `done` (or an error without one), within `limit` seconds."""
    try:
        async with asyncio.timeout(limit):
            async for raw in frames:
                now = time.perf_counter()
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "token":
                    if reply.first is None:
                        reply.first = now
                    reply.tokens.append(frame["token"])
                elif kind == "reasoning":
                    if reply.first_thought is None:
                        reply.first_thought = now
                    reply.thoughts.append(frame["content"])
                elif kind == "done":
                    reply.done, reply.status = now, frame["status"]
                    return reply
                elif kind == "error":
                    reply.error = frame.get("code")
                    if reply.error != "provider_error":  # only a provider error is followed by `done`
                        return reply
    except TimeoutError:
        reply.error = reply.error or "client_timeout"
    return reply


async def direct_reply(client: httpx.AsyncClient, provider_url: str, content: str, reply: Reply) -> Reply:
    """The same request chatui makes, straight to the fake provider: `POST /api/chat`, NDJSON lines until done."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": content}], "stream": True}
    reply.sent = time.perf_counter()
    async with client.stream("POST", f"{provider_url}/api/chat", json=body) as response:
        async for line in response.aiter_lines():
            if take_ndjson_line(reply, line):
                break
    return reply


def take_ndjson_line(reply: Reply, line: str | bytes) -> bool:
    """One line of Ollama's NDJSON stream into `reply` (its first token's time, its text); True at the last line."""
    if not line.strip():
        return False
    now = time.perf_counter()
    chunk = json.loads(line)
    text = (chunk.get("message") or {}).get("content") or ""
    if text:
        reply.first = reply.first or now
        reply.tokens.append(text)
    if chunk.get("done"):
        reply.done, reply.status = now, "done"
        return True
    return False


async def provider_reply(provider: OllamaProvider, content: str, reply: Reply) -> Reply:
    """The same stream read by chatui's own Ollama client (`OllamaProvider`), with nothing of chatui around it."""
    reply.sent = time.perf_counter()
    async for event in provider.stream([ChatMessage("user", content)], MODEL):
        now = time.perf_counter()
        if isinstance(event, TextDelta):
            if reply.first is None:
                reply.first = now
            reply.tokens.append(event.text)
        else:
            reply.done, reply.status = now, "done"
    return reply


def lost_tokens(expected: Sequence[str], received: Sequence[str]) -> int:
    """Tokens of the script that did not arrive (counted as a multiset; order is checked separately)."""
    return sum((Counter(expected) - Counter(received)).values())
