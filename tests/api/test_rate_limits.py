"""Rate limits on a live server with small limits: messages and new conversations per user, sign-ins per address
and per username, sign-ups per address."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from testing.live import LiveApp
from tests.api.conftest import Account


@pytest.fixture(scope="module")
def strict_app(tmp_path_factory, ollama_server) -> Iterator[LiveApp]:
    _, ollama = ollama_server
    env = {
        "OLLAMA_BASE_URL": ollama.url,
        "CHATUI_MESSAGES_PER_MINUTE": "3",
        "CHATUI_CONVERSATIONS_PER_MINUTE": "3",
        "CHATUI_LOGIN_ATTEMPTS": "3",
        "CHATUI_REGISTRATIONS_PER_HOUR": "4",
    }
    app = LiveApp(tmp_path_factory.mktemp("strict") / "data", env).start()
    yield app
    app.stop()


def client_from(app: LiveApp, address: str) -> httpx.AsyncClient:
    """A client whose connections come from another loopback address (127.0.0.0/8 is all this machine)."""
    return httpx.AsyncClient(base_url=app.url, transport=httpx.AsyncHTTPTransport(local_address=address))


async def test_messages_per_minute_per_user(strict_app: LiveApp, fake_ollama):
    async with httpx.AsyncClient(base_url=strict_app.url) as client:
        account = await Account.sign_up(client, "chatty")
        conversation_id = await account.new_conversation()
        async with connect(f"{strict_app.ws_url}/ws/{conversation_id}", additional_headers=account.cookie_header) as ws:
            for n in range(3):
                await ws.send(json.dumps({"type": "message", "content": f"message {n}"}))
                while json.loads(await ws.recv())["type"] != "done":
                    pass
            await ws.send(json.dumps({"type": "message", "content": "one too many"}))
            refused = json.loads(await ws.recv())
            assert refused["type"] == "error" and refused["code"] == "rate_limited"
            assert refused["retry_after"] > 0
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await ws.recv()) == {"type": "pong"}  # the socket stays usable
        contents = [m["content"] for m in await account.messages(conversation_id) if m["role"] == "user"]
        assert contents == ["message 0", "message 1", "message 2"]


async def test_new_conversations_per_minute_per_user(strict_app: LiveApp):
    async with client_from(strict_app, "127.0.0.60") as client, client_from(strict_app, "127.0.0.60") as other:
        await Account.sign_up(client, "prolific")
        answers = await asyncio.gather(  # a burst: exactly the limit gets through
            *(client.post("/api/conversations", json={"title": f"chat {n}"}) for n in range(6))
        )
        assert sorted(a.status_code for a in answers) == [201] * 3 + [429] * 3
        refused = next(a for a in answers if a.status_code == 429)
        wait = int(refused.headers["Retry-After"])
        assert 0 < wait <= 60
        assert refused.json() == {
            "detail": f"Too many new conversations; try again in {wait} s.",
            "reason": "rate_limited",
        }
        assert (await client.post("/api/conversations", json={})).status_code == 429  # also without a title
        listed = (await client.get("/api/conversations")).json()
        created = [a.json()["title"] for a in answers if a.status_code == 201]
        assert sorted(c["title"] for c in listed) == sorted(created)  # nothing else was stored
        await Account.sign_up(other, "unhurried")  # per user: another account is not affected
        assert (await other.post("/api/conversations", json={})).status_code == 201


async def test_sign_in_attempts_per_username_across_addresses(strict_app: LiveApp):
    async with httpx.AsyncClient(base_url=strict_app.url) as client:
        await client.post("/api/auth/register", json={"username": "victim", "password": "password123"})
    for n in range(3):
        async with client_from(strict_app, f"127.0.0.{10 + n}") as attacker:
            wrong = await attacker.post("/api/auth/login", json={"username": "victim", "password": f"guess-{n}-xx"})
            assert wrong.status_code == 401
    async with client_from(strict_app, "127.0.0.20") as owner:
        refused = await owner.post("/api/auth/login", json={"username": "victim", "password": "password123"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "chatui_session" not in refused.cookies


async def test_sign_in_attempts_per_address_across_usernames(strict_app: LiveApp):
    async with client_from(strict_app, "127.0.0.30") as attacker:
        for n in range(3):
            wrong = await attacker.post("/api/auth/login", json={"username": f"nobody{n}", "password": "whatever12"})
            assert wrong.status_code == 401
            assert wrong.json()["detail"] == "Wrong username or password."
        refused = await attacker.post("/api/auth/login", json={"username": "someone-else", "password": "whatever12"})
        assert refused.status_code == 429 and "Retry-After" in refused.headers
    async with client_from(strict_app, "127.0.0.31") as elsewhere:  # other addresses are unaffected
        assert (
            await elsewhere.post("/api/auth/login", json={"username": "x-y-z", "password": "whatever12"})
        ).status_code == 401


async def test_a_known_address_keeps_signing_in_while_others_guess(strict_app: LiveApp):
    credentials = {"username": "regular", "password": "password123"}
    async with client_from(strict_app, "127.0.0.40") as owner:
        assert (await owner.post("/api/auth/register", json=credentials)).status_code == 201
        assert (await owner.post("/api/auth/login", json=credentials)).status_code == 200
    for n in range(3):
        async with client_from(strict_app, f"127.0.0.{41 + n}") as attacker:
            wrong = await attacker.post("/api/auth/login", json={**credentials, "password": f"guess-{n}-xx"})
            assert wrong.status_code == 401
    async with client_from(strict_app, "127.0.0.45") as stranger:  # the name is locked for new addresses
        assert (await stranger.post("/api/auth/login", json=credentials)).status_code == 429
    async with client_from(strict_app, "127.0.0.40") as owner:  # not for the one the owner signs in from
        signed_in = await owner.post("/api/auth/login", json=credentials)
        assert signed_in.status_code == 200 and "chatui_session" in signed_in.cookies


async def test_parallel_sign_ups_from_one_address_are_refused_past_the_limit(strict_app: LiveApp):
    async with client_from(strict_app, "127.0.0.50") as flood:
        answers = await asyncio.gather(
            *(
                flood.post("/api/auth/register", json={"username": f"flood{n}", "password": "password123"})
                for n in range(20)
            )
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 4 + [429] * 16
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["Retry-After"]) > 0 and "Too many new accounts" in refused.json()["detail"]
    async with client_from(strict_app, "127.0.0.51") as neighbour:
        assert (
            await neighbour.post("/api/auth/register", json={"username": "neighbour", "password": "password123"})
        ).status_code == 201
