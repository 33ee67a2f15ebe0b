"""Sign-up modes and the administration API across two instances: whatever one instance decides (approve, the mode,
an invitation used, a promotion, a deletion) holds on the other at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import websockets

from testing.fakes.server import ScriptedProvider, ThreadedServer
from testing.live import LiveApp
from tests.cluster.conftest import two_instances

PASSWORD = "password123"


@pytest.fixture(scope="module")
def approving_pair(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[tuple[LiveApp, LiveApp]]:
    with two_instances(tmp_path_factory, ollama_server[1].url, CHATUI_SIGNUP="approval") as instances:
        yield instances


@pytest.fixture
async def clients(approving_pair: tuple[LiveApp, LiveApp]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Fresh clients (no cookies) per name, on A (`name@a`) or B (`name@b`)."""
    a, b = approving_pair
    made: dict[str, httpx.AsyncClient] = {}

    class Clients(dict[str, httpx.AsyncClient]):
        def __missing__(self, key: str) -> httpx.AsyncClient:
            app = a if key.endswith("@a") else b
            made[key] = self[key] = httpx.AsyncClient(base_url=app.url, timeout=10)
            return self[key]

    yield Clients()
    for client in made.values():
        await client.aclose()


async def register(client: httpx.AsyncClient, name: str, **extra: str) -> httpx.Response:
    return await client.post("/api/auth/register", json={"username": name, "password": PASSWORD, **extra})


async def login(client: httpx.AsyncClient, name: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": name, "password": PASSWORD})


async def test_what_one_instance_decides_about_accounts_holds_on_the_other(
    approving_pair: tuple[LiveApp, LiveApp], clients: dict[str, httpx.AsyncClient]
) -> None:
    _, b = approving_pair
    root, root_on_b = clients["root@a"], clients["root@b"]
    assert (await register(root, "root")).json()["approved"] is True  # the first account, on A
    assert (await login(root, "root")).status_code == 200
    root_on_b.cookies.set("chatui_session", root.cookies["chatui_session"])

    # signed up on B: pending; approved on A; signs in on B
    newcomer = clients["newcomer@b"]
    signed_up = await register(newcomer, "newcomer")
    assert signed_up.status_code == 201 and signed_up.json()["approved"] is False
    assert (await login(newcomer, "newcomer")).status_code == 403
    newcomer_id = signed_up.json()["id"]
    users = {u["username"]: u for u in (await root.get("/api/admin/users")).json()}
    assert users["newcomer"]["state"] == "pending"
    assert (await root.patch(f"/api/admin/users/{newcomer_id}", json={"approved": True})).status_code == 200
    assert (await login(newcomer, "newcomer")).status_code == 200

    # promoted on A: an administrator on B, with the session it has; demoted on B: not on A
    newcomer_on_a = clients["newcomer@a"]
    newcomer_on_a.cookies.set("chatui_session", newcomer.cookies["chatui_session"])
    assert (await newcomer.get("/api/admin/users")).status_code == 403
    await root.patch(f"/api/admin/users/{newcomer_id}", json={"is_admin": True})
    assert (await newcomer.get("/api/admin/users")).status_code == 200
    await root_on_b.patch(f"/api/admin/users/{newcomer_id}", json={"is_admin": False})
    assert (await newcomer_on_a.get("/api/admin/users")).status_code == 403

    # the mode set on A is B's; an invitation made on B works once, on A, and not again on B
    assert (await root.put("/api/admin/signup", json={"mode": "closed"})).status_code == 200
    assert (await register(clients["stranger@b"], "stranger")).status_code == 403
    token = (await root_on_b.post("/api/admin/invites")).json()["url"].split("invite=")[1]
    assert (await register(clients["guest@a"], "guest", invite=token)).status_code == 201
    assert (await register(clients["guest2@b"], "guest2", invite=token)).status_code == 403

    # deleted on A: the session and an open socket on B end, and the account is gone for both
    conversation = (await newcomer.post("/api/conversations", json={"title": "on b"})).json()["id"]
    cookie = {"Cookie": f"chatui_session={newcomer.cookies['chatui_session']}"}
    async with websockets.connect(f"{b.ws_url}/ws/{conversation}", additional_headers=cookie) as socket:
        assert (await root.delete(f"/api/admin/users/{newcomer_id}")).status_code == 204
        with pytest.raises(websockets.ConnectionClosed):
            async with asyncio.timeout(10):  # a socket left open fails the test with TimeoutError instead
                while True:  # any frames until the server closes the socket
                    await socket.recv()
    assert (await newcomer.get("/api/auth/me")).status_code == 401
    assert (await root_on_b.delete(f"/api/admin/users/{newcomer_id}")).status_code == 404
