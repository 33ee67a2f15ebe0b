"""Thumbs up / down under a reply (issue 26): stored through the feedback service at once, a comment offered on thumbs
down, and shown as chosen after a reload."""

from __future__ import annotations

import json

import pytest
from nicegui.testing import User

from testing.fakes.server import Script
from tests.pages.test_chat_flow import register_and_sign_in, send

pytestmark = pytest.mark.usefixtures("app_env")


async def exported(user: User) -> list[dict]:
    """The feedback as the administrator exports it (the first account is the administrator)."""
    response = await user.http_client.get("/api/admin/feedback")
    assert response.status_code == 200
    return [json.loads(line) for line in response.text.splitlines()]


async def answered(user: User, fake_ollama, question: str, tokens: list[str]) -> None:
    """Sign up, ask, and wait until the reply and its thumbs are shown."""
    fake_ollama.then(Script(tokens=tokens))
    await register_and_sign_in(user)
    await send(user, question)
    await user.should_see("".join(tokens), retries=50)
    await user.should_see(marker="rate-up", retries=30)


async def reload(user: User, reply: str) -> None:
    """Open the (only) conversation again, as a reload does, and wait for its reply."""
    [conversation] = (await user.http_client.get("/api/conversations")).json()
    await user.open(f"/chat/{conversation['id']}")
    await user.should_see(reply, retries=20)


def pressed(user: User) -> list[str]:
    return [element.props["aria-label"] for element in user.find(marker="rated").elements]


async def test_thumbs_up_then_down_with_a_comment_and_both_shown_after_a_reload(user: User, fake_ollama) -> None:
    await answered(user, fake_ollama, "What is 2 plus 2?", ["Four", "."])
    await user.should_not_see(marker="rated")

    user.find(marker="rate-up").click()
    await user.should_see(marker="rated", retries=20)
    assert pressed(user) == ["Good reply"]
    [record] = await exported(user)
    assert (record["rating"], record["comment"], record["path"][-1]["content"]) == ("up", None, "Four.")

    user.find(marker="rate-down").click()
    await user.should_see("What was wrong with this reply?")
    assert pressed(user) == ["Bad reply"]  # stored before the comment is asked for: Cancel keeps it
    user.find("Comment (optional)").type("It should show the working.")
    user.find(marker="send-feedback").click()
    await user.should_not_see("What was wrong with this reply?", retries=20)
    [record] = await exported(user)
    assert (record["rating"], record["comment"]) == ("down", "It should show the working.")

    await reload(user, "Four.")
    await user.should_see(marker="rated", retries=20)
    assert pressed(user) == ["Bad reply"]


async def test_cancelling_the_comment_keeps_the_thumbs_down(user: User, fake_ollama) -> None:
    await answered(user, fake_ollama, "What colour is the sky?", ["Blue", "."])
    user.find(marker="rate-down").click()
    await user.should_see("What was wrong with this reply?")
    user.find("Cancel").click()
    await user.should_not_see("What was wrong with this reply?", retries=20)
    [record] = await exported(user)
    assert (record["rating"], record["comment"]) == ("down", None)
    assert pressed(user) == ["Bad reply"]


async def test_pressing_the_chosen_thumb_again_takes_the_rating_back(user: User, fake_ollama) -> None:
    await answered(user, fake_ollama, "What is the capital of France?", ["Paris", "."])
    user.find(marker="rate-up").click()
    await user.should_see(marker="rated", retries=20)
    assert [r["rating"] for r in await exported(user)] == ["up"]

    user.find(marker="rate-up").click()
    await user.should_not_see(marker="rated", retries=20)
    assert [e.props["aria-pressed"] for e in user.find(marker="rate-up").elements] == ["false"]
    assert await exported(user) == []

    await reload(user, "Paris.")
    await user.should_see(marker="rate-up", retries=20)
    await user.should_not_see(marker="rated")
