"""Issue 29, "Every day" (part C), from the chat page: chat settings before the first message, the system prompt's
chip, the default instructions' page, Continue, Fork, and a failed reply's error worded for who reads it."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User

from testing.fakes.server import Script
from tests.pages.test_chat_flow import ollama_port, register_and_sign_in, send  # noqa: F401 - a fixture
from tests.pages.test_live_replies import assistant_texts, newest_conversation_path

pytestmark = pytest.mark.usefixtures("app_env")
PROMPT = "You are a careful translator.\nAnswer in French."


def settings_dialog_values(user: User, **values: object) -> None:
    for marker, value in values.items():
        field = user.find(marker=marker.replace("_", "-"))
        field.clear()
        if value is not None:
            field.type(str(value))


async def test_settings_chosen_before_the_first_message_go_with_it_and_stay(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["Bonjour."]), Script(tokens=["Encore."]))
    await register_and_sign_in(user)
    await user.should_not_see(marker="system-prompt-chip")  # no default instructions: no chip
    user.find(marker="chat-settings-button").click()
    await user.should_see(marker="settings-dialog")
    with user:
        [area] = user.find(marker="system-prompt").elements
    assert isinstance(area, ui.textarea)  # the field is multi-line
    user.find(marker="system-prompt").type(PROMPT)
    settings_dialog_values(user, temperature=3)
    user.find(marker="save-settings").click()
    await user.should_see("The temperature must be between 0 and 2.", retries=20)  # the dialog stays, says why
    settings_dialog_values(user, temperature=0.2, max_tokens=300, top_p=0.9, seed=11)
    user.find(marker="save-settings").click()
    await user.should_not_see(marker="settings-dialog", retries=20)
    await user.should_see("System prompt: You are a careful translator. Answer in French.")  # the chip
    assert fake_ollama.requests == []  # nothing was created or asked yet

    await send(user, "Hello")
    await user.should_see("Bonjour.", retries=50)
    sent = fake_ollama.requests[-1]
    assert sent["messages"][0] == {"role": "system", "content": PROMPT}
    assert sent["options"] == {"temperature": 0.2, "num_predict": 300, "top_p": 0.9, "seed": 11}
    path = await newest_conversation_path(user)
    stored = (await user.http_client.get(path.replace("/chat/", "/api/conversations/"))).json()
    settings = [stored[name] for name in ("system_prompt", "temperature", "max_tokens", "top_p", "seed")]
    assert settings == [PROMPT, 0.2, 300, 0.9, 11]
    # the chip opens the conversation's settings, as stored
    await user.open(path)
    user.find(marker="system-prompt-chip").click()
    await user.should_see(marker="settings-dialog")
    with user:
        [seed] = user.find(marker="seed").elements
    assert seed.value == 11


async def test_default_instructions_are_set_on_the_settings_page_and_start_new_chats(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["Oui."]))
    await register_and_sign_in(user)
    user.find(marker="account").click()
    user.find(marker="settings").click()
    await user.should_see("Default instructions", retries=20)
    user.find(marker="default-instructions").type("Always answer in French.")
    user.find(marker="save-instructions").click()
    await user.should_see("Saved: new chats start with these instructions.", retries=20)
    stored = (await user.http_client.get("/api/settings")).json()
    assert stored["default_system_prompt"] == "Always answer in French."
    await user.open("/")
    await user.should_see("System prompt: Always answer in French.", retries=20)  # what this new chat will use
    await send(user, "Hi")
    await user.should_see("Oui.", retries=50)
    assert fake_ollama.requests[-1]["messages"][0] == {"role": "system", "content": "Always answer in French."}


async def test_continue_carries_a_cut_off_reply_on_in_the_same_bubble(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["The list: one, two,"], cut_off=True), Script(tokens=[" three, four."]))
    await register_and_sign_in(user)
    await send(user, "Count to four")
    await user.should_see("The list: one, two,", retries=50)
    await user.should_see(marker="continue", retries=30)  # cut off at the token limit: Continue is offered
    await user.should_see("Stopped at the token limit: Continue carries it on.")
    user.find(marker="continue").click()
    await user.should_see("The list: one, two, three, four.", retries=50)
    assert len(user.find(marker="assistant-message").elements) == 1  # appended, not a new reply
    assert fake_ollama.requests[-1]["messages"][-1] == {"role": "assistant", "content": "The list: one, two,"}
    await user.should_not_see(marker="continue", retries=30)  # done now: nothing to carry on
    await user.should_not_see("Stopped at the token limit")
    await user.open(await newest_conversation_path(user))  # stored once, whole
    await user.should_see("The list: one, two, three, four.", retries=20)


async def test_a_finished_reply_offers_no_continue(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["Complete."]))
    await register_and_sign_in(user)
    await send(user, "Hi")
    await user.should_see("Complete.", retries=50)
    await user.should_see(marker="regenerate", retries=30)
    await user.should_not_see(marker="continue")


async def test_fork_opens_a_new_conversation_holding_the_path_up_to_that_reply(user: User, fake_ollama) -> None:
    fake_ollama.then(Script(tokens=["First reply."]), Script(tokens=["Second reply."]))
    await register_and_sign_in(user)
    await send(user, "One")
    await user.should_see("First reply.", retries=50)
    await send(user, "Two")
    await user.should_see("Second reply.", retries=50)
    original = await newest_conversation_path(user)
    with user:
        first_fork = min(user.find(marker="fork").elements, key=lambda element: element.id)  # under the first reply
    assert first_fork.props["aria-label"] == "Fork into a new conversation"
    user.find(marker="fork").click()  # the first one (lowest id): under "First reply."
    await user.should_see("One (fork)", retries=30)  # the new conversation is open, titled after the original
    assert (await newest_conversation_path(user)) != original
    texts = assistant_texts(user)
    assert len(texts) == 1 and "First reply." in texts[0]
    await user.should_not_see("Second reply.")


async def test_a_failed_reply_tells_others_to_ask_their_administrator(
    ollama_port: int,  # noqa: F811 - the fixture
    user: User,
    create_user,
) -> None:
    await register_and_sign_in(user, "admin")
    other = create_user()
    await register_and_sign_in(other, "bob")
    await send(other, "hello")
    await other.should_see(marker="reply-error", retries=50)
    error = other.find(marker="reply-error").elements.pop().text
    assert error == f"Cannot reach Ollama at http://127.0.0.1:{ollama_port}. Ask your administrator to fix it."
    await send(user, "hello")
    await user.should_see(marker="reply-error", retries=50)
    assert "`ollama serve`" in user.find(marker="reply-error").elements.pop().text  # the administrator's fix
