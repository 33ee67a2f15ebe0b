"""AI titles: asked once after the first reply, cleaned, never over a rename, given up after the time cap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from chatui.bootstrap import build_services
from chatui.config import Settings
from chatui.conversations.titles import clean_ai_title, usable_title
from chatui.engine.events import TitleChanged
from providers.local import BUNDLED_MODEL_ID
from testing.fakes.inprocess import InProcessProvider, Reply
from tests.chatui.conftest import EngineOnly, engine_only_services

QUESTION = "Could you explain how the tides work, and why there are two of them each day?"
TRUNCATED = "Could you explain how the tides work, and why ther..."


async def titles_told(engine_only: EngineOnly, conversation_id: str) -> list[str]:
    told: list[str] = []
    engine_only.conversations.subscribe(
        conversation_id, lambda e: told.append(e.title) if isinstance(e, TitleChanged) else 0
    )
    return told


async def settled(engine_only: EngineOnly) -> None:
    """Until every title task of the service has ended."""
    assert engine_only.conversations.titles is not None
    async with asyncio.timeout(5):
        await engine_only.conversations.titles.settled()


@pytest.mark.parametrize(
    ("answer", "title"),
    [
        ("Tides Explained", "Tides Explained"),
        ('"Why Two Tides a Day"', "Why Two Tides a Day"),
        ("**Title:** The Moon and the Tides\n\nI chose this because...", "The Moon and the Tides"),
        ("# Tidal Forces", "Tidal Forces"),
        ("Title: `code` and *tides*", "code and tides"),
        ("A " + "very " * 20 + "long title", "A very very very very very very very very very very very"),
        ("   \n  ", None),
    ],
)
def test_the_answer_is_cleaned_to_one_short_line(answer, title):
    cleaned = clean_ai_title(answer)
    assert cleaned == title
    assert cleaned is None or (len(cleaned) <= 60 and "\n" not in cleaned)


CONVERSATION = f"{QUESTION}\nHigh tide comes twice a day because the moon pulls the oceans."


@pytest.mark.parametrize(
    ("answer", "title"),
    [
        ("Why Two Tides a Day", "Why Two Tides a Day"),
        ("The Moon and the Oceans", "The Moon and the Oceans"),
        ("Tide Cycles", "Tide Cycles"),  # "tide" ~ "tides"
        # a tiny model's free association: no word of the conversation
        ("Smarxil, one of the words that serves as…", None),
        ("Quantum Bananas", None),
        # a sentence, not a title: cut off, or too long, or too many words
        ("The tides are caused by the moon and the sun pulling on the oceans of the earth twice", None),
        ("Tides and the moon and the sun and the sea", None),
        ("Tides explained...", None),
        # only words that say nothing
        ("A Question About This", None),
        ("", None),
    ],
)
def test_a_title_is_kept_only_if_it_reads_as_one_for_this_conversation(answer: str, title: str | None) -> None:
    assert usable_title(answer, CONVERSATION) == title


async def test_the_first_reply_brings_an_ai_title_once(engine_only_titled: EngineOnly):
    engine_only = engine_only_titled
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    told = await titles_told(engine_only, conversation.id)
    engine_only.provider.then(Reply(tokens=["High tide comes twice."]), Reply(tokens=['"Why ', 'Two Tides?"']))
    await (await engine_only.conversations.send(alice.id, conversation.id, QUESTION)).wait()
    assert (await engine_only.conversations.get(alice.id, conversation.id)).title in (TRUNCATED, "Why Two Tides?")
    await settled(engine_only)
    assert (await engine_only.conversations.get(alice.id, conversation.id)).title == "Why Two Tides?"
    assert told == ["Why Two Tides?"]
    title_request = engine_only.provider.calls[1].messages[0].content
    assert QUESTION in title_request and "High tide comes twice." in title_request
    calls = len(engine_only.provider.calls)
    await (await engine_only.conversations.send(alice.id, conversation.id, "And the moon?")).wait()
    await (await engine_only.conversations.regenerate(alice.id, conversation.id)).wait()
    await settled(engine_only)
    assert len(engine_only.provider.calls) == calls + 2  # the two replies, no title request


async def test_a_rename_meanwhile_wins(engine_only_titled: EngineOnly):
    engine_only = engine_only_titled
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    engine_only.provider.then(Reply(tokens=["answer"]), Reply(tokens=["AI", " title"], hold=1))
    await (await engine_only.conversations.send(alice.id, conversation.id, QUESTION)).wait()
    await engine_only.provider.holding()
    await engine_only.conversations.rename(alice.id, conversation.id, "My own")
    engine_only.provider.release()
    await settled(engine_only)
    assert (await engine_only.conversations.get(alice.id, conversation.id)).title == "My own"


async def test_a_slow_title_is_given_up_and_the_truncation_stays(engine_only_titled: EngineOnly):
    engine_only = engine_only_titled
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    engine_only.provider.then(Reply(tokens=["answer"]), Reply(tokens=["Too", " late"], hold=1))
    await (await engine_only.conversations.send(alice.id, conversation.id, QUESTION)).wait()
    await engine_only.provider.holding()
    await settled(engine_only)  # the 0.5 s cap of the fixture
    engine_only.provider.release()
    assert (await engine_only.conversations.get(alice.id, conversation.id)).title == TRUNCATED
    assert engine_only.provider.closed_early == 1  # the title request's stream was closed


async def test_a_failed_first_reply_brings_no_title_request(engine_only_titled: EngineOnly):
    engine_only = engine_only_titled
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    engine_only.provider.then(Reply(tokens=["a", "b"], error_after=1))
    await (await engine_only.conversations.send(alice.id, conversation.id, QUESTION)).wait()
    await settled(engine_only)
    assert len(engine_only.provider.calls) == 1


def test_ai_titles_can_be_turned_off(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, ai_titles=False)  # type: ignore[call-arg]
    assert build_services(settings).conversations.titles is None
    assert Settings(_env_file=None, data_dir=tmp_path).ai_titles  # type: ignore[call-arg]


async def test_noise_from_the_model_leaves_the_first_message_as_the_title(engine_only_titled: EngineOnly) -> None:
    engine_only = engine_only_titled
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    engine_only.provider.then(Reply(tokens=["High tide comes twice."]), Reply(tokens=["Smarxil, one of the words"]))
    await (await engine_only.conversations.send(alice.id, conversation.id, QUESTION)).wait()
    await settled(engine_only)
    assert len(engine_only.provider.calls) == 2  # it was asked
    assert (await engine_only.conversations.get(alice.id, conversation.id)).title == TRUNCATED


@pytest.fixture
async def tiny_and_titler(tmp_path) -> AsyncIterator[tuple[EngineOnly, InProcessProvider]]:
    """The bundled tiny model (`local:`) and an Ollama model; AI titles on."""
    tiny = InProcessProvider()
    tiny.models = [BUNDLED_MODEL_ID.removeprefix("local:")]
    async for built in engine_only_services(
        tmp_path, ai_titles=True, ai_title_seconds=0.5, extra_providers={"local": tiny}
    ):
        yield built, tiny


async def test_a_chat_on_the_bundled_tiny_model_asks_no_title_of_it(tiny_and_titler) -> None:
    engine_only, tiny = tiny_and_titler
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id, model=BUNDLED_MODEL_ID)
    tiny.then(Reply(tokens=["Tides", " go", " up."]))
    await (await engine_only.conversations.send(alice.id, conversation.id, QUESTION)).wait()
    await settled(engine_only)
    assert len(tiny.calls) == 1 and not engine_only.provider.calls  # the reply only, no title request anywhere
    assert (await engine_only.conversations.get(alice.id, conversation.id)).title == TRUNCATED


async def test_the_title_model_setting_names_who_writes_titles(tmp_path) -> None:
    tiny = InProcessProvider()
    tiny.models = [BUNDLED_MODEL_ID.removeprefix("local:")]
    async for engine_only in engine_only_services(
        tmp_path, ai_titles=True, title_model="ollama:titler", extra_providers={"local": tiny}
    ):
        alice = await engine_only.user()
        conversation = await engine_only.conversations.create(alice.id, model=BUNDLED_MODEL_ID)
        tiny.then(Reply(tokens=["High tide comes twice."]))
        engine_only.provider.then(Reply(tokens=["Why Two Tides"]))
        await (await engine_only.conversations.send(alice.id, conversation.id, QUESTION)).wait()
        await settled(engine_only)
        [title_call] = engine_only.provider.calls
        assert title_call.model == "titler" and QUESTION in title_call.messages[0].content
        assert (await engine_only.conversations.get(alice.id, conversation.id)).title == "Why Two Tides"
