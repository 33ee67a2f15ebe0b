"""The rows under messages: Copy, Regenerate (and with another model), Retry, Edit, versions; Chat settings."""

from __future__ import annotations

import re

import pytest
from nicegui.testing import User

from testing.fakes.server import Script, ScriptedProvider
from tests.pages.test_chat_flow import register_and_sign_in, send
from tests.pages.test_live_replies import assistant_texts, newest_conversation_path

pytestmark = pytest.mark.usefixtures("app_env")


def aria(user: User, marker: str) -> list[str]:
    return [element.props.get("aria-label", "") for element in user.find(marker=marker).elements]


def replies(user: User) -> list[str]:
    """The first line of each reply on the page (its text; the footer with model and tokens follows)."""
    return [re.sub(r"<[^>]+>", "", html).strip().splitlines()[0] for html in assistant_texts(user)]


def version_labels(user: User) -> list[str]:
    return [label.text for label in user.find(marker="version").elements]


async def first_exchange(user: User, fake_ollama: ScriptedProvider, answer: str = "First answer.") -> None:
    fake_ollama.then(Script(tokens=[answer]))
    await register_and_sign_in(user)
    await send(user, "Tell me something")
    await user.should_see(answer, retries=50)
    await user.should_see(marker="regenerate", retries=30)


async def test_rows_have_their_buttons_with_accessible_names(user: User, fake_ollama) -> None:
    await first_exchange(user, fake_ollama)
    assert aria(user, "copy") == ["Copy", "Copy"]  # under the question and under the reply
    assert aria(user, "edit") == ["Edit"] and aria(user, "regenerate") == ["Regenerate"]
    assert aria(user, "regenerate-with") == ["Regenerate with another model"]
    await user.should_not_see(marker="previous-version")  # one version: no switcher
    copy = user.find(marker="copy").elements.pop()
    assert any(
        "chatui.copyMessage(event, " in (listener.js_handler or "") for listener in copy._event_listeners.values()
    )


async def test_regenerate_adds_a_version_and_the_switcher_flips_between_them(user: User, fake_ollama) -> None:
    await first_exchange(user, fake_ollama)
    fake_ollama.then(Script(tokens=["Second answer."]))
    user.find(marker="regenerate").click()
    await user.should_see("Second answer.", retries=50)
    await user.should_see(marker="previous-version", retries=30)
    assert version_labels(user) == ["2 / 2"] and replies(user) == ["Second answer."]
    assert aria(user, "previous-version") == ["Previous version"] and aria(user, "next-version") == ["Next version"]
    user.find(marker="previous-version").click()
    await user.should_see("First answer.", retries=30)
    await user.should_see("1 / 2", retries=30)
    assert replies(user) == ["First answer."]
    user.find(marker="next-version").click()
    await user.should_see("Second answer.", retries=30)
    assert [m["content"] for m in fake_ollama.requests[-1]["messages"]] == ["Tell me something"]


async def test_a_failed_reply_shows_retry_which_answers_again(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["par", "tial"], error_after=1, error="model crashed"))
    await register_and_sign_in(user)
    await send(user, "go")
    await user.should_see(marker="retry", retries=50)
    assert aria(user, "retry") == ["Retry"]
    await user.should_not_see(marker="regenerate")
    fake_ollama.then(Script(tokens=["Whole answer."]))
    user.find(marker="retry").click()
    await user.should_see("Whole answer.", retries=50)
    await user.should_see(marker="regenerate", retries=30)


async def test_regenerate_with_another_model_from_the_menu(user: User, fake_ollama) -> None:
    fake_ollama.models = ["llama3.2:3b", "qwen2.5:0.5b"]
    await first_exchange(user, fake_ollama)
    user.find(marker="regenerate-with").click()
    await user.should_see("ollama:qwen2.5:0.5b", retries=30)
    fake_ollama.then(Script(tokens=["From qwen."]))
    user.find(marker="regenerate-with-ollama:qwen2.5:0.5b").click()
    await user.should_see("From qwen.", retries=50)
    assert fake_ollama.requests[-1]["model"] == "qwen2.5:0.5b"


async def test_edit_opens_an_inline_editor_that_sends_a_new_version(user: User, fake_ollama) -> None:
    await first_exchange(user, fake_ollama)
    user.find(marker="edit").click()
    await user.should_see(marker="editor")
    await user.should_see("Save & submit")
    user.find("Cancel").click()
    await user.should_not_see(marker="editor")
    user.find(marker="edit").click()
    editor = user.find(marker="edit-text")
    editor.clear()
    editor.type("Tell me something else")
    fake_ollama.then(Script(tokens=["Another answer."]))
    user.find("Save & submit").click()
    await user.should_see("Another answer.", retries=50)
    await user.should_see("2 / 2", retries=30)
    await user.should_not_see(marker="editor")
    assert [m["content"] for m in fake_ollama.requests[-1]["messages"]] == ["Tell me something else"]
    user.find(marker="previous-version").click()  # the question's versions bring the first exchange back
    await user.should_see("First answer.", retries=30)


async def test_enter_submits_the_editor_and_escape_closes_it(user: User, fake_ollama) -> None:
    await first_exchange(user, fake_ollama)
    user.find(marker="edit").click()
    user.find(marker="edit-text").trigger("keydown.esc")
    await user.should_not_see(marker="editor")
    user.find(marker="edit").click()
    editor = user.find(marker="edit-text")
    editor.clear()
    editor.type("Short version")
    fake_ollama.then(Script(tokens=["Short answer."]))
    editor.trigger("keydown.enter.exact.prevent")
    await user.should_see("Short answer.", retries=50)


async def test_another_tab_follows_a_version_switch(user: User, create_user, fake_ollama) -> None:
    await first_exchange(user, fake_ollama)
    fake_ollama.then(Script(tokens=["Second answer."]))
    user.find(marker="regenerate").click()
    await user.should_see("Second answer.", retries=50)
    second = create_user()
    second.http_client.cookies = user.http_client.cookies
    await second.open(await newest_conversation_path(user))
    await second.should_see("Second answer.", retries=30)
    user.find(marker="previous-version").click()
    await second.should_see("First answer.", retries=30)
    await second.should_see("1 / 2", retries=30)
    assert replies(second) == replies(user) == ["First answer."]


async def test_chat_settings_set_the_system_prompt_and_temperature(user: User, fake_ollama) -> None:
    await first_exchange(user, fake_ollama)
    user.find(marker="conversation-menu").click()
    user.find(marker="chat-settings").click()
    await user.should_see(marker="settings-dialog")
    user.find(marker="system-prompt").type("Talk like a pirate.")
    user.find("Temperature").type("3")
    user.find(marker="save-settings").click()
    await user.should_see(marker="dialog-error", retries=20)  # 3 is out of range: the dialog stays
    temperature = user.find("Temperature")
    temperature.clear()
    temperature.type("0.5")
    user.find(marker="save-settings").click()
    await user.should_not_see(marker="settings-dialog", retries=20)
    await user.should_see("System prompt: Talk like a pirate.")  # the chip above the message box
    fake_ollama.then(Script(tokens=["Arr."]))
    await send(user, "hi")
    await user.should_see("Arr.", retries=50)
    sent = fake_ollama.requests[-1]
    assert sent["messages"][0] == {"role": "system", "content": "Talk like a pirate."}
    assert sent["options"] == {"temperature": 0.5}
