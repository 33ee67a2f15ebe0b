"""Big accounts and long conversations on the pages: a bounded sidebar and a windowed message list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nicegui import app, ui
from nicegui.testing import User

from chatui.ui.message_list import KEEP_PAGES, PAGE_SIZE
from chatui.ui.rendering import SHOWN_CHARS
from chatui.ui.sidebar import PAGE_SIZE as SIDEBAR_PAGE
from storage.models import utcnow
from testing.fakes.server import Script
from testing.seed import seed_conversation, seed_conversations, snippet
from tests.pages.test_chat_flow import register_and_sign_in

pytestmark = pytest.mark.usefixtures("app_env")


async def me(user: User) -> str:
    return str((await user.http_client.get("/api/auth/me")).json()["id"])


def count(user: User, marker: str) -> int:
    with user:
        return len(user.find(marker=marker).elements)


def texts(user: User, marker: str) -> list[str]:
    """The text of each element with this marker, HTML included (its tags stripped), in page order."""
    with user:
        elements = sorted(user.find(marker=marker).elements, key=lambda e: e.id)  # created in page order
    return [
        " ".join(str(getattr(d, "content", "") or getattr(d, "text", "")) for d in [e, *e.descendants()])
        for e in elements
    ]


# -- the sidebar ------------------------------------------------------------------------------------------------------


async def test_sidebar_shows_a_page_then_more_and_filters_old_ones(user: User) -> None:
    await register_and_sign_in(user)
    services = app.state.services
    user_id = await me(user)
    await services.store.db.run_statements(lambda c: seed_conversations(c, user_id, 2 * SIDEBAR_PAGE + 10))
    await user.open("/")
    await user.should_see("Conversation 109")  # the newest first
    assert count(user, "conversation-item") == SIDEBAR_PAGE  # not all 110: the old sidebar built every one
    await user.should_not_see("Conversation 3")

    user.find(marker="more-conversations").click()
    await user.should_see("Conversation 59", retries=20)
    assert count(user, "conversation-item") == 2 * SIDEBAR_PAGE
    user.find(marker="more-conversations").click()
    await user.should_see("Conversation 0", retries=20)
    assert count(user, "conversation-item") == 2 * SIDEBAR_PAGE + 10
    await user.should_not_see(marker="more-conversations")

    await user.open("/")
    user.find(marker="conversation-filter").type("Conversation 3")
    await user.should_see("Conversation 37", retries=20)  # far down the list, found by its title
    names = texts(user, "conversation-item")
    assert len(names) == 11 and all("Conversation 3" in n for n in names)  # 3, 30-39
    user.find(marker="conversation-filter").clear().type("no such title")
    await user.should_see("No conversation matches.", retries=20)


async def test_sidebar_groups_by_day_and_highlights_the_open_one(user: User) -> None:
    await register_and_sign_in(user)
    services = app.state.services
    user_id = await me(user)
    now = utcnow().astimezone()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for when in (midnight - timedelta(days=20), midnight - timedelta(days=3), midnight - timedelta(hours=2), now):
        (opened,) = await services.store.db.run_statements(
            lambda c, when=when: seed_conversations(c, user_id, 1, now=when)
        )
    await user.open(f"/chat/{opened}")
    await user.should_see("Today")
    assert texts(user, "conversation-group") == ["Today", "Yesterday", "Previous 7 days", "Older"]
    with user:
        active = [e for e in user.find(marker="conversation-item").elements if e.props.get("active")]
        (button,) = [d for d in active[0].descendants() if isinstance(d, ui.button)]
    assert len(active) == 1 and f"row-menu-{opened}" in button._markers


async def test_row_menu_renames_and_deletes_another_conversation(user: User) -> None:
    await register_and_sign_in(user)
    services = app.state.services
    user_id = await me(user)
    ids = await services.store.db.run_statements(lambda c: seed_conversations(c, user_id, 2))
    await user.open(f"/chat/{ids[1]}")  # "Conversation 1" is open; its neighbour is changed from the list
    user.find(marker=f"row-menu-{ids[0]}").click()
    user.find(marker="rename-conversation").click()
    await user.should_see("Rename conversation")
    user.find("Title").clear().type("Renamed from the list")
    user.find(marker="save-title").click()
    await user.should_see("Renamed from the list", retries=20)
    titles = {c["id"]: c["title"] for c in (await user.http_client.get("/api/conversations")).json()}
    assert titles == {ids[0]: "Renamed from the list", ids[1]: "Conversation 1"}

    user.find(marker=f"row-menu-{ids[0]}").click()
    user.find(marker="delete-conversation").click()
    await user.should_see(marker="confirm-delete")
    user.find(marker="confirm-delete").click()
    await user.should_not_see("Renamed from the list", retries=20)
    assert [c["id"] for c in (await user.http_client.get("/api/conversations")).json()] == [ids[1]]
    await user.should_see(marker="conversation-title")  # still on the open conversation


async def test_rest_and_sidebar_agree_on_a_big_account(user: User) -> None:
    await register_and_sign_in(user)
    services = app.state.services
    user_id = await me(user)
    await services.store.db.run_statements(lambda c: seed_conversations(c, user_id, 60))
    page = await user.http_client.get("/api/conversations?limit=50")
    await user.open("/")
    names = texts(user, "conversation-item")
    assert [n.strip() for n in names] == [c["title"] for c in page.json()]


# -- the message list -------------------------------------------------------------------------------------------------


async def signed_in_with_conversation(user: User, messages: int) -> tuple[str, list[str]]:
    """A new account holding one conversation of `messages` messages: its id and the messages' ids."""
    await register_and_sign_in(user)
    user_id = await me(user)
    return await app.state.services.store.db.run_statements(lambda c: seed_conversation(c, user_id, messages))


async def test_a_long_conversation_opens_at_its_end_with_one_page(user: User) -> None:
    conversation_id, _ = await signed_in_with_conversation(user, 1000)
    await user.open(f"/chat/{conversation_id}")
    await user.should_see("Message 996: a short one.")
    shown = count(user, "user-message") + count(user, "assistant-message")
    assert shown == PAGE_SIZE  # the old page built all 1,000
    await user.should_not_see("Message 900: a short one.")

    for page in range(2, KEEP_PAGES + 3):
        user.find(marker="load-older").click()
        await user.should_see(snippet(1000 - PAGE_SIZE * page), retries=20)
        shown = count(user, "user-message") + count(user, "assistant-message")
        assert shown == min(page, KEEP_PAGES) * PAGE_SIZE  # far pages are dropped: the window stays bounded
    await user.should_not_see("Message 996: a short one.")
    await user.should_see(marker="load-newer")
    user.find(marker="load-newer").click()
    await user.should_see(snippet(1000 - PAGE_SIZE * 2), retries=20)


async def test_opening_at_a_message_shows_it_highlighted(user: User) -> None:
    conversation_id, ids = await signed_in_with_conversation(user, 500)
    await user.open(f"/chat/{conversation_id}?message={ids[100]}")
    await user.should_see("Message 100: a short one.")
    await user.should_not_see("Message 496: a short one.")
    with user:
        targets = [e for e in user.find(marker="user-message").elements if "chatui-target" in e.classes]
    assert len(targets) == 1 and "chatui-highlight" in targets[0].classes
    await user.should_see(marker="load-newer")

    await user.open(f"/chat/{conversation_id}?message=not-a-message")  # an unknown id: the end, and a notice
    await user.should_see("Message 496: a short one.")
    await user.should_see("That message is not in this conversation any more.")


async def test_a_reply_into_a_long_conversation_streams_at_its_end(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["Still", " **here**", "."], delay=0.01))
    conversation_id, ids = await signed_in_with_conversation(user, 400)
    await user.open(f"/chat/{conversation_id}?message={ids[12]}")  # far from the end
    await user.should_see("Message 12: a short one.")
    user.find(kind=ui.textarea).type("one more question")  # seeded texts say "Message" too
    user.find(kind=ui.textarea).trigger("keydown.enter.exact.prevent")
    await user.should_see("Still <strong>here</strong>.", retries=50)  # the page moved to the end to show the reply
    await user.should_see("one more question")
    await user.should_see("Message 396: a short one.")
    await user.should_not_see("Message 12: a short one.")
    assert fake_ollama.requests[-1]["messages"][-1]["content"] == "one more question"


async def test_reattach_stop_and_versions_work_on_a_paged_conversation(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=[f"w{i} " for i in range(500)], delay=0.02))
    conversation_id, _ = await signed_in_with_conversation(user, 600)
    path = f"/chat/{conversation_id}"
    await user.open(path)
    user.find(kind=ui.textarea).type("one more question")
    user.find(kind=ui.textarea).trigger("keydown.enter.exact.prevent")
    await user.should_see("w3 ", retries=50)
    await user.open(path)  # reload mid-stream: the page re-attaches to the reply at the end of its last page
    await user.should_see("w20 ", retries=100)
    await user.should_see("one more question")
    assert count(user, "user-message") + count(user, "assistant-message") == PAGE_SIZE  # the newest page, reply in it
    user.find(marker="stop").click()
    await user.should_see("Stopped", retries=50)
    stored = (await user.http_client.get(f"/api/conversations/{conversation_id}?limit=1")).json()["messages"][-1]
    assert stored["status"] == "cancelled" and stored["content"].startswith("w0 w1 w2 w3 ")

    fake_ollama.then(Script(tokens=["A better answer."]))
    await user.should_see(marker="retry", retries=30)  # a stopped reply offers Retry: a new version of it
    user.find(marker="retry").click()
    await user.should_see("A better answer.", retries=50)
    await user.should_see("2 / 2", retries=30)
    user.find(marker="previous-version").click()
    await user.should_see("1 / 2", retries=30)
    await user.should_see("Message 596: a short one.")  # still the end of the long path, one page of it
    assert count(user, "user-message") + count(user, "assistant-message") == PAGE_SIZE
    asked = fake_ollama.requests[-1]["messages"]
    assert asked[-1]["content"] == "one more question"  # the retry answers the question, without the stopped reply
    assert not any(turn["content"].startswith("w0 w1") for turn in asked)


# -- one giant stored message ------------------------------------------------------------------------------------------


async def test_a_giant_stored_message_is_folded_and_show_all_adds_the_rest_as_text(user: User) -> None:
    """A message far over the typed limit (an import from before imports were cut) opens at once: its first
    `SHOWN_CHARS` formatted, a note, and Show all; the rest is never formatted."""
    await register_and_sign_in(user)
    user_id = await me(user)
    giant = "# Heading\n\n" + "word " * 100_000 + "\n\nTHE-VERY-END <b>not bold</b>"

    def text(i: int) -> str:
        return giant if i == 0 else f"reply {i} under the giant one"

    conversation_id, _ = await app.state.services.store.db.run_statements(
        lambda c: seed_conversation(c, user_id, 2, title="Giant", text=text)
    )
    await user.open(f"/chat/{conversation_id}")
    await user.should_see("reply 1 under the giant one")
    await user.should_see(f"of {len(giant):,} characters.")
    shown = "".join(texts(user, "user-message"))
    assert "Heading" in shown and "THE-VERY-END" not in shown and len(shown) < SHOWN_CHARS + 1_000

    user.find(marker="show-all").click()
    await user.should_see(marker="message-rest")
    [rest] = texts(user, "message-rest")
    assert "THE-VERY-END &lt;b&gt;not bold&lt;/b&gt;" in rest  # plain text: escaped, never rendered
    await user.should_not_see(marker="show-all")
