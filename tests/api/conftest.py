"""A live chatui server per module, and signed-in API clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from testing.fakes.server import ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app


@pytest.fixture(scope="module")
def live_app(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    yield from module_app(tmp_path_factory, ollama_server[1].url, "live")


class Account:
    """A signed-in API client for one user."""

    counter = 0

    def __init__(self, client: httpx.AsyncClient, username: str, password: str) -> None:
        self.client = client
        self.username = username
        self.password = password

    @classmethod
    async def sign_up(cls, client: httpx.AsyncClient, username: str, password: str = "password123") -> Account:
        """Register and sign in through the API; `client` keeps the session cookie."""
        credentials = {"username": username, "password": password}
        assert (await client.post("/api/auth/register", json=credentials)).status_code == 201
        assert (await client.post("/api/auth/login", json=credentials)).status_code == 200
        return cls(client, username, password)

    @property
    def cookie(self) -> str:
        return self.client.cookies["chatui_session"]

    @property
    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": f"chatui_session={self.cookie}"}

    def socket(self, app: LiveApp, conversation_id: str) -> Any:
        """`async with account.socket(app, id) as ws:` — the conversation's `/ws`, with this account's cookie."""
        return connect(f"{app.ws_url}/ws/{conversation_id}", additional_headers=self.cookie_header)

    async def new_conversation(self, **body: str) -> str:
        response = await self.client.post("/api/conversations", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def messages(self, conversation_id: str) -> list[dict]:
        response = await self.client.get(f"/api/conversations/{conversation_id}")
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])


@pytest.fixture
async def make_account(live_app: LiveApp) -> AsyncIterator:
    clients: list[httpx.AsyncClient] = []

    async def make(password: str = "correct horse battery") -> Account:
        Account.counter += 1
        username = f"user{Account.counter}"
        client = httpx.AsyncClient(base_url=live_app.url, timeout=10)
        clients.append(client)
        return await Account.sign_up(client, username, password)

    yield make
    for client in clients:
        await client.aclose()
