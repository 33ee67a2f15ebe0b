"""A page whose session ended can do nothing, even driven by a client that ignores the redirect to `/login`.

Each test loads a real page from a live server, connects to its socket.io endpoint like the browser does (see
`tests/page_socket.py`), ends the session from elsewhere, then fires the page's own events: nothing may change.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from testing.fakes.server import ScriptedProvider, ThreadedServer
from testing.live import LiveApp, module_app
from tests.api.conftest import Account
from tests.page_socket import PageSocket

PASSWORD = "password123"
QUIET = 1.5  # how long an event is given to show an effect that must not happen


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, ollama_server: tuple[ScriptedProvider, ThreadedServer]
) -> Iterator[LiveApp]:
    yield from module_app(tmp_path_factory, ollama_server[1].url, "revoked")


@pytest.fixture
async def http(app: LiveApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=app.url, timeout=10) as client:
        yield client


@contextlib.asynccontextmanager
async def signed_in(app: LiveApp, username: str, password: str = PASSWORD) -> AsyncIterator[httpx.AsyncClient]:
    """Another session of the account."""
    async with httpx.AsyncClient(base_url=app.url, timeout=10) as client:
        response = await client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        yield client


async def can_sign_in(app: LiveApp, username: str, password: str) -> bool:
    async with httpx.AsyncClient(base_url=app.url) as client:
        response = await client.post("/api/auth/login", json={"username": username, "password": password})
        return response.status_code == 200


async def test_admin_page_of_a_revoked_session_cannot_reset_a_password(app: LiveApp, http: httpx.AsyncClient) -> None:
    admin = await Account.sign_up(http, "the-admin")  # the first account: administrator
    async with httpx.AsyncClient(base_url=app.url) as other:
        await Account.sign_up(other, "someone")
    page = await PageSocket.open(app.url, "/admin", admin.cookie)
    try:
        reset = page.find("Reset password", near="someone")
        assert reset is not None
        async with signed_in(app, "the-admin") as second:
            changed = await second.post(
                "/api/auth/password", json={"current_password": PASSWORD, "new_password": "a new admin secret"}
            )
            assert changed.status_code == 204
        assert await page.wait_for("open") is not None  # the server asked the page to leave...
        await page.click(reset)  # ...and it clicks on
        field = await page.wait_for_text("New password", within=QUIET)
        if field is not None:  # the dialog opened: finish the attack
            await page.set_value(field, "chosen-by-attacker")
            await page.click(page.find("Set password"))  # type: ignore[arg-type]
            with contextlib.suppress(TimeoutError):
                await page.wait_for("notify", within=QUIET)
    finally:
        await page.close()
    assert not await can_sign_in(app, "someone", "chosen-by-attacker")
    assert await can_sign_in(app, "someone", PASSWORD)


async def test_chat_page_of_a_signed_out_session_cannot_rename_or_delete(app: LiveApp, http: httpx.AsyncClient) -> None:
    owner = await Account.sign_up(http, "chatter")
    conversation_id = await owner.new_conversation(title="Keep me")
    page = await PageSocket.open(app.url, f"/chat/{conversation_id}", owner.cookie)
    rename, delete = page.find("Rename"), page.find("Delete")
    assert rename is not None and delete is not None
    try:
        assert (await http.post("/api/auth/logout")).status_code == 204
        await page.wait_for("open")
        await page.click(rename)
        if (field := await page.wait_for_text("Title", within=QUIET)) is not None:
            await page.set_value(field, "Renamed by a ghost")
            await page.click(page.find("Save"))  # type: ignore[arg-type]
            await page.wait_for_text("Renamed by a ghost", within=QUIET)
        await page.click(delete)
        if await page.wait_for_text("Delete conversation?", QUIET) is not None:
            dialog_buttons = [i for i, e in page.elements.items() if e.get("props", {}).get("label") == "Delete"]
            await page.click(dialog_buttons[-1])
            with contextlib.suppress(TimeoutError):
                await page.wait_for("open", within=QUIET, count=2)  # to "/" once deleted
    finally:
        await page.close()
    async with signed_in(app, "chatter") as again:
        response = await again.get(f"/api/conversations/{conversation_id}")
        assert response.status_code == 200
        assert response.json()["title"] == "Keep me"
