"""The chat page's own behaviour: nothing is created before the first message, a refused first message leaves no
empty conversation, and sending while a reply streams says so."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.element_filter import ElementFilter
from nicegui.testing import User

from testing.fakes.server import Script
from tests.pages.test_chat_flow import register_and_sign_in, send

pytestmark = pytest.mark.usefixtures("app_env")


@pytest.fixture
def short_messages(app_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATUI_MAX_MESSAGE_CHARS", "20")


async def conversations(user: User) -> list[dict]:
    return (await user.http_client.get("/api/conversations")).json()


async def test_visiting_the_chat_creates_nothing(user: User) -> None:
    await register_and_sign_in(user)
    for _ in range(3):
        await user.open("/")
        await user.should_see("Ask anything to start a conversation.")
    assert await conversations(user) == []


async def test_a_refused_first_message_leaves_no_empty_conversation(short_messages, user: User) -> None:
    await register_and_sign_in(user)
    await send(user, "this message is longer than twenty characters")
    await user.should_see("the limit is 20.", retries=30)
    assert await conversations(user) == []
    await user.should_not_see(marker="conversation-item")
    user.find("Message").clear()
    await send(user, "short one")  # the next message starts a conversation as usual
    await user.should_see(marker="conversation-item", retries=30)
    assert [c["title"] for c in await conversations(user)] == ["short one"]


async def test_sending_while_a_reply_streams_says_so(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=[f"w{i} " for i in range(300)], delay=0.02))
    await register_and_sign_in(user)
    await send(user, "a long answer please")
    await user.should_see("w3 ", retries=50)
    await send(user, "and another thing")
    await user.should_see("A reply is still being written in this conversation; wait for it or stop it.", retries=10)
    assert user.find("Message").elements.pop().value == "and another thing"  # kept for later


async def test_delete_asks_then_offers_undo_for_a_few_seconds(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["Kept", " reply"]))
    await register_and_sign_in(user)
    await send(user, "remember this")
    await user.should_see("Kept reply", retries=50)
    user.find(marker="delete").click()
    await user.should_see("Delete conversation?")
    user.find(marker="confirm-delete").click()
    await user.should_see(marker="undo-notice", retries=30)  # on the new chat the page went to
    await user.should_see("Ask anything to start a conversation.")
    assert await conversations(user) == []  # deleted at once, not hidden

    user.find(marker="undo-delete").click()
    await user.should_see("Kept reply", retries=30)
    [restored] = await conversations(user)
    assert restored["title"] == "remember this"
    detail = (await user.http_client.get(f"/api/conversations/{restored['id']}")).json()
    assert [(m["role"], m["content"]) for m in detail["messages"]] == [
        ("user", "remember this"),
        ("assistant", "Kept reply"),
    ]


async def test_the_shortcuts_dialog_lists_each_key_and_what_it_does(user: User) -> None:
    await register_and_sign_in(user)
    user.find(marker="shortcuts-item").click()
    await user.should_see("Keyboard shortcuts")
    await user.should_see("Ctrl + /")
    await user.should_see("Show these shortcuts")


async def test_a_reply_with_math_a_task_list_and_a_diagram_reaches_the_page_ready_to_draw(
    user: User, fake_ollama
) -> None:
    """What the server sends the page (the browser tests see KaTeX and Mermaid draw it): the TeX whole, backslashes
    and all, the checkboxes, the diagram's block marked once the reply is done."""
    reply = "Area: $\\pi r^2$ and \\[\\sum_{i=1}^n i\\]\n\n- [x] done\n- [ ] to do\n\n"
    reply += "```mermaid\ngraph TD\n  A --> B\n```\n"
    fake_ollama.then(Script(tokens=[reply[:20], reply[20:]]))
    await register_and_sign_in(user)
    await send(user, "math please")
    await user.should_see("to do", retries=50)
    await user.should_see(marker="regenerate", retries=30)  # the reply is done
    with user:
        shown = "".join(element.content for element in ElementFilter(kind=ui.html))
    assert '<span class="chatui-math">\\pi r^2</span>' in shown
    assert '<span class="chatui-math chatui-math-display">\\sum_{i=1}^n i</span>' in shown
    assert shown.count('type="checkbox"') == 2 and shown.count("checked") == 1
    assert 'class="chatui-code chatui-mermaid"' in shown
