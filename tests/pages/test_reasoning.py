"""Reasoning you can watch, on the chat page (issue 24): "Thinking…" while it streams, folded to "Thought for N s"
when the answer begins, folded when stored, kept across a reload mid-reasoning."""

from __future__ import annotations

import re

import pytest
from nicegui import ui
from nicegui.testing import User

from testing.fakes.ollama import FakeOllama
from testing.fakes.server import Script
from testing.waiting import until
from tests.pages.test_chat_flow import register_and_sign_in, send

pytestmark = pytest.mark.usefixtures("app_env")

THOUGHTS = [f"Step {i}: weigh it.\n\n" if i % 5 == 4 else f"Step {i}. " for i in range(20)]


def reasoning_blocks(user: User) -> list[ui.element]:
    return list(user.find(marker="reasoning").elements)


def title(user: User) -> str:
    return str(next(iter(user.find(marker="reasoning-title").elements)).text)


async def test_reasoning_streams_open_then_folds_when_the_answer_begins(user: User, fake_ollama: FakeOllama) -> None:
    fake_ollama.then(Script(thinking=THOUGHTS, tokens=["The", " answer", " is", " no."], delay=0.05))
    await register_and_sign_in(user)
    await send(user, "Is 1,001 prime?")
    await user.should_see(marker="reasoning", retries=50)
    [block] = reasoning_blocks(user)
    assert "open" in block.props and title(user) == "Thinking…"  # streams open, under "Thinking…"
    await user.should_see(content="Step 3.", retries=50)  # the reasoning shows as it comes
    await user.should_see("The answer is no.", retries=100)
    await until(lambda: title(user).startswith("Thought for "), what="the block folded under its time")
    assert "open" not in block.props and re.fullmatch(r"Thought for [12] s", title(user))  # 20 × 0.05 s
    await user.should_see(content="Step 19: weigh it.")  # still there, folded (a click opens it in a browser)
    await user.should_not_see(marker="thinking")  # the waiting line made way for the block


async def test_a_stored_reply_shows_its_reasoning_folded(user: User, fake_ollama: FakeOllama) -> None:
    fake_ollama.then(Script(thinking=["Seven", " times eleven", " times thirteen."], tokens=["No."]))
    await register_and_sign_in(user)
    await send(user, "Is 1,001 prime?")
    await user.should_see("No.", retries=50)
    await user.should_see(marker="conversation-item", retries=20)
    user.find(marker="conversation-item").click()  # the conversation again, from the database
    await user.should_see(content="Seven times eleven times thirteen.", retries=30)
    [block] = reasoning_blocks(user)
    assert "open" not in block.props and title(user).startswith("Thought")


async def test_a_reload_mid_reasoning_shows_what_was_thought_then_the_rest(user: User, fake_ollama: FakeOllama) -> None:
    fake_ollama.then(Script(thinking=[f"t{i} " for i in range(60)], tokens=["Done."], delay=0.03))
    await register_and_sign_in(user)
    await send(user, "Think long")
    await user.should_see(content="t5 ", retries=50)
    conversation_id = (await user.http_client.get("/api/conversations")).json()[0]["id"]
    await user.open(f"/chat/{conversation_id}")  # the tab was reloaded while the model thought
    await user.should_see("Done.", retries=100)
    await user.should_see(content="t0 t1 t2 ")
    await user.should_see(content="t59 ")


# -- the Think control ----------------------------------------------------------------------------------------------


def think_label(user: User) -> str:
    with user:
        [button] = user.find(marker="think-button").elements
    return str(button.props.get("aria-label"))


async def test_think_shows_for_a_thinking_model_and_the_effort_goes_with_the_first_message(
    user: User, fake_ollama: FakeOllama
) -> None:
    fake_ollama.thinking_models = {"llama3.2:3b": ["low", "medium", "high"]}
    fake_ollama.then(Script(thinking=["Hm."], tokens=["Yes."]), Script(tokens=["Again."]))
    await register_and_sign_in(user)
    await user.should_see(marker="think-button", retries=30)
    assert think_label(user) == "Think: off"
    user.find(marker="think-button").click()
    user.find(marker="think-high").click()
    await until(lambda: think_label(user) == "Think: high", what="the button says the effort")
    assert fake_ollama.requests == []  # a new chat: nothing stored or asked yet
    await send(user, "Think hard")
    await user.should_see("Yes.", retries=50)
    assert fake_ollama.requests[-1]["think"] == "high"
    conversations = (await user.http_client.get("/api/conversations")).json()
    assert conversations[0]["reasoning_effort"] == "high"

    await user.open(f"/chat/{conversations[0]['id']}")  # the conversation again: its effort shown, changed at once
    await user.should_see(marker="think-button", retries=30)
    assert think_label(user) == "Think: high"
    user.find(marker="think-button").click()
    user.find(marker="think-off").click()
    await until(lambda: think_label(user) == "Think: off", what="the button says off")
    stored = (await user.http_client.get(f"/api/conversations/{conversations[0]['id']}")).json()
    assert stored["reasoning_effort"] is None
    await send(user, "And now?")
    await user.should_see("Again.", retries=50)
    assert "think" not in fake_ollama.requests[-1]


async def test_think_is_not_offered_for_a_model_that_cannot_think(user: User, fake_ollama: FakeOllama) -> None:
    fake_ollama.models = ["llama3.2:3b", "qwen3:8b"]
    fake_ollama.thinking_models = {"qwen3:8b": [False, True]}
    await register_and_sign_in(user)
    await until(lambda: "llama3.2:3b" in fake_ollama.shown, what="the page asked whether the model thinks")
    await user.should_not_see(marker="think-button")
    user.find("Model").click()
    await user.should_see("qwen3:8b", retries=30)  # the picker's friendly name
    user.find("qwen3:8b").click()
    await user.should_see(marker="think-button", retries=30)  # the thinking model: offered
