"""The administration page lists the configured MCP servers and their state, without their secrets."""

from __future__ import annotations

import json

import pytest
from nicegui.testing import User

from testing.fakes.server import ClosedPort
from tests.pages.test_chat_flow import register_and_sign_in

pytestmark = pytest.mark.usefixtures("app_env")


@pytest.fixture
def dead_server(app_env: object, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = {"name": "files", "url": f"http://127.0.0.1:{ClosedPort()}/mcp", "headers": {"Authorization": "tok-99"}}
    monkeypatch.setenv("CHATUI_MCP_SERVERS", json.dumps([dead]))


async def test_the_admin_page_shows_each_tool_server_and_why_one_is_unavailable(dead_server: None, user: User) -> None:
    await register_and_sign_in(user, "boss")
    await user.open("/admin")
    await user.should_see("Tool servers")
    await user.should_see("HTTP · unavailable: the connection was refused", retries=50)
    await user.should_not_see("tok-99")
