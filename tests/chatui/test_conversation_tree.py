"""The conversation service over the tree: send, regenerate, edit, versions, pages, settings — on a real SQLite file
with the in-process provider (see `tests/chatui/conftest.py::engine_only`)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from chatui.conversations.errors import ConversationNotFound, InvalidInput, MessageNotFound, SendRefused
from chatui.engine.events import PathChanged, ReplyStarted, TitleChanged
from providers import ChatMessage, GenerationParams, Usage
from storage import MessageStatus
from testing.fakes.inprocess import Reply
from tests.chatui.conftest import EngineOnly


async def exchange(engine_only: EngineOnly, user_id: str, conversation_id: str, content: str, answer: str) -> None:
    engine_only.provider.then(Reply(tokens=[answer]))
    await (await engine_only.conversations.send(user_id, conversation_id, content)).wait()


async def path_of(engine_only: EngineOnly, user_id: str, conversation_id: str) -> list[str]:
    return [m.content for m in (await engine_only.conversations.path(user_id, conversation_id)).messages]


def asked(engine_only: EngineOnly) -> list[tuple[str, str]]:
    """The turns of the provider's last request."""
    return [(m.role, m.content) for m in engine_only.provider.calls[-1].messages]


async def test_messages_form_a_path_each_under_the_one_before(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    await exchange(engine_only, alice.id, conversation.id, "one", "A1")
    await exchange(engine_only, alice.id, conversation.id, "two", "A2")
    page = await engine_only.conversations.path(alice.id, conversation.id)
    assert [m.content for m in page.messages] == ["one", "A1", "two", "A2"]
    assert [m.parent_id for m in page.messages] == [None, *(m.id for m in page.messages[:-1])]
    assert all(page.siblings[m.id] == [m.id] for m in page.messages)
    assert asked(engine_only) == [("user", "one"), ("assistant", "A1"), ("user", "two")]


async def test_regenerate_adds_a_version_of_the_last_reply_asked_without_the_old_one(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    await exchange(engine_only, alice.id, conversation.id, "one", "first answer")
    engine_only.provider.then(Reply(tokens=["second answer"]))
    generation = await engine_only.conversations.regenerate(alice.id, conversation.id)
    await generation.wait()
    assert asked(engine_only) == [("user", "one")]
    page = await engine_only.conversations.path(alice.id, conversation.id)
    question, reply = page.messages
    assert [question.content, reply.content] == ["one", "second answer"]
    assert generation.parent_id == question.id == reply.parent_id and generation.user_message_id is None
    first = [
        m for m in (await engine_only.conversations.tree(alice.id, conversation.id)).messages if m.role == "assistant"
    ]
    assert page.siblings[reply.id] == [first[0].id, reply.id]  # oldest first, itself included


async def test_regenerate_retries_a_failed_reply_and_may_use_another_model(engine_only: EngineOnly):
    engine_only.provider.models.append("qwen2.5:0.5b")
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    engine_only.provider.then(Reply(tokens=["par", "tial"], error_after=1))
    failed = await engine_only.conversations.send(alice.id, conversation.id, "go")
    await failed.wait()
    assert failed.status == MessageStatus.ERROR
    engine_only.provider.then(Reply(tokens=["whole"]))
    retried = await engine_only.conversations.regenerate(alice.id, conversation.id, "qwen2.5:0.5b")
    await retried.wait()
    assert engine_only.provider.calls[-1].model == "qwen2.5:0.5b" and asked(engine_only) == [("user", "go")]
    assert await path_of(engine_only, alice.id, conversation.id) == ["go", "whole"]
    assert (await engine_only.conversations.get(alice.id, conversation.id)).model == "ollama:llama3.2:3b"  # unchanged


async def test_edit_adds_a_version_of_the_user_message_beside_it_then_its_reply(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    await exchange(engine_only, alice.id, conversation.id, "one", "A1")
    await exchange(engine_only, alice.id, conversation.id, "two", "A2")
    two = (await engine_only.conversations.path(alice.id, conversation.id)).messages[2]
    engine_only.provider.then(Reply(tokens=["A3"]))
    await (await engine_only.conversations.edit(alice.id, conversation.id, two.id, "deux")).wait()
    assert asked(engine_only) == [("user", "one"), ("assistant", "A1"), ("user", "deux")]
    page = await engine_only.conversations.path(alice.id, conversation.id)
    assert [m.content for m in page.messages] == ["one", "A1", "deux", "A3"]
    deux = page.messages[2]
    assert deux.parent_id == two.parent_id and page.siblings[deux.id] == [two.id, deux.id]


async def test_switching_versions_goes_down_to_the_newest_leaf_and_is_told_to_watchers(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    await exchange(engine_only, alice.id, conversation.id, "one", "A1")
    await exchange(engine_only, alice.id, conversation.id, "two", "A2")
    await exchange(engine_only, alice.id, conversation.id, "three", "A3")
    two = (await engine_only.conversations.path(alice.id, conversation.id)).messages[2]
    engine_only.provider.then(Reply(tokens=["B"]))
    await (await engine_only.conversations.edit(alice.id, conversation.id, two.id, "deux")).wait()
    events = []
    engine_only.conversations.subscribe(conversation.id, events.append)
    page = await engine_only.conversations.switch_version(alice.id, conversation.id, two.id)
    assert [m.content for m in page.messages] == ["one", "A1", "two", "A2", "three", "A3"]
    assert events == [PathChanged(page.messages[-1].id)]
    assert await path_of(engine_only, alice.id, conversation.id) == ["one", "A1", "two", "A2", "three", "A3"]
    deux = page.siblings[two.id][1]
    assert [
        m.content for m in (await engine_only.conversations.switch_version(alice.id, conversation.id, deux)).messages
    ] == [
        "one",
        "A1",
        "deux",
        "B",
    ]


async def test_a_reply_streaming_blocks_a_version_switch(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    await exchange(engine_only, alice.id, conversation.id, "one", "A1")
    first = (await engine_only.conversations.path(alice.id, conversation.id)).messages[0]
    engine_only.provider.then(Reply(tokens=["a", "b", "c"], hold=1))
    generation = await engine_only.conversations.send(alice.id, conversation.id, "two")
    await engine_only.provider.holding()
    with pytest.raises(SendRefused) as refused:
        await engine_only.conversations.switch_version(alice.id, conversation.id, first.id)
    assert refused.value.reason == "busy"
    engine_only.provider.release()
    await generation.wait()


async def test_refusals_save_nothing(engine_only: EngineOnly):
    alice = await engine_only.user()
    bob = await engine_only.user("bob")
    conversation = await engine_only.conversations.create(alice.id)
    with pytest.raises(SendRefused) as nothing:
        await engine_only.conversations.regenerate(alice.id, conversation.id)
    assert nothing.value.reason == "nothing_to_regenerate"
    await exchange(engine_only, alice.id, conversation.id, "one", "A1")
    question, reply = (await engine_only.conversations.path(alice.id, conversation.id)).messages
    bobs = await engine_only.conversations.create(bob.id)
    await exchange(engine_only, bob.id, bobs.id, "bob's", "B1")
    bobs_question = (await engine_only.conversations.path(bob.id, bobs.id)).messages[0]
    for message_id in ("no-such-id", reply.id, bobs_question.id):  # unknown, not a user message, someone else's
        with pytest.raises(MessageNotFound):
            await engine_only.conversations.edit(alice.id, conversation.id, message_id, "changed")
    with pytest.raises(ConversationNotFound):
        await engine_only.conversations.edit(bob.id, conversation.id, question.id, "changed")
    with pytest.raises(SendRefused) as empty:
        await engine_only.conversations.edit(alice.id, conversation.id, question.id, "   ")
    assert empty.value.reason == "empty"
    with pytest.raises(MessageNotFound):
        await engine_only.conversations.switch_version(alice.id, conversation.id, bobs_question.id)
    assert len((await engine_only.conversations.tree(alice.id, conversation.id)).messages) == 2


async def test_system_prompt_and_temperature_reach_the_provider_as_params(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    await engine_only.conversations.update_settings(
        alice.id, conversation.id, system_prompt="Be a pirate.", temperature=0.4
    )
    await exchange(engine_only, alice.id, conversation.id, "hi", "Arr")
    call = engine_only.provider.calls[-1]
    assert call.params == GenerationParams(temperature=0.4, system="Be a pirate.")
    assert call.messages == [ChatMessage("user", "hi")]  # the adapter places the system prompt its own way
    await engine_only.conversations.update_settings(alice.id, conversation.id, system_prompt=None, temperature=None)
    await exchange(engine_only, alice.id, conversation.id, "again", "Hello")
    assert engine_only.provider.calls[-1].params == GenerationParams()


async def test_settings_are_checked(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    for settings in (
        {"temperature": 2.5},
        {"temperature": -0.1},
        {"temperature": float("nan")},
        {"system_prompt": "x" * 8_001},
        {"model": "bad\nmodel"},
    ):
        with pytest.raises(InvalidInput):
            await engine_only.conversations.update_settings(alice.id, conversation.id, **settings)
    for title in ("", "   ", "x" * 201, "tab\there", "nul\x00"):
        with pytest.raises(InvalidInput):
            await engine_only.conversations.rename(alice.id, conversation.id, title)
    assert (await engine_only.conversations.rename(alice.id, conversation.id, "  Trip plans  ")).title == "Trip plans"
    assert (
        await engine_only.conversations.update_settings(alice.id, conversation.id, system_prompt="x" * 8_000)
    ).system_prompt


async def test_new_conversations_take_the_users_default_system_prompt(engine_only: EngineOnly):
    alice = await engine_only.user()
    before = await engine_only.conversations.create(alice.id)
    assert (
        await engine_only.conversations.set_default_system_prompt(alice.id, "Answer in French.") == "Answer in French."
    )
    after = await engine_only.conversations.create(alice.id)
    assert (before.system_prompt, after.system_prompt) == (None, "Answer in French.")
    await exchange(engine_only, alice.id, after.id, "hi", "Salut")
    assert engine_only.provider.calls[-1].params.system == "Answer in French."
    assert await engine_only.conversations.set_default_system_prompt(alice.id, "  ") is None
    assert (await engine_only.conversations.create(alice.id)).system_prompt is None


async def test_pages_of_the_active_path_with_before_and_after(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    for index in range(5):
        await exchange(engine_only, alice.id, conversation.id, f"q{index}", f"a{index}")
    everything = (await engine_only.conversations.path(alice.id, conversation.id)).messages
    names = [m.content for m in everything]
    newest = await engine_only.conversations.path(alice.id, conversation.id, limit=4)
    assert [m.content for m in newest.messages] == names[-4:] and newest.has_before and not newest.has_after
    older = await engine_only.conversations.path(alice.id, conversation.id, limit=4, before=newest.messages[0].id)
    assert [m.content for m in older.messages] == names[2:6] and older.has_before and older.has_after
    oldest = await engine_only.conversations.path(alice.id, conversation.id, limit=4, before=older.messages[0].id)
    assert [m.content for m in oldest.messages] == names[:2] and not oldest.has_before
    newer = await engine_only.conversations.path(alice.id, conversation.id, limit=3, after=everything[1].id)
    assert [m.content for m in newer.messages] == names[2:5] and newer.has_after and newer.has_before
    last = await engine_only.conversations.path(alice.id, conversation.id, limit=3, after=everything[-3].id)
    assert [m.content for m in last.messages] == names[-2:] and not last.has_after
    with pytest.raises(MessageNotFound):
        await engine_only.conversations.path(alice.id, conversation.id, limit=3, after="not-a-message")


async def test_done_counts_deltas_while_the_stored_count_is_the_providers(engine_only: EngineOnly):
    """Anthropic-style deltas carry several tokens each: 2 frames, 9 completion tokens."""
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    engine_only.provider.then(Reply(tokens=["Hello there, ", "how are you today?"], usage=Usage(12, 9)))
    generation = await engine_only.conversations.send(alice.id, conversation.id, "hi")
    await generation.wait()
    assert generation.token_frames == 2 and generation.completion_tokens == 9
    reply = (await engine_only.conversations.path(alice.id, conversation.id)).messages[-1]
    assert (reply.completion_tokens, reply.prompt_tokens) == (9, 12)


async def test_stop_and_delete_work_on_regenerated_replies(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    await exchange(engine_only, alice.id, conversation.id, "one", "A1")
    engine_only.provider.then(Reply(tokens=["x", "y", "z"], hold=1))
    regenerated = await engine_only.conversations.regenerate(alice.id, conversation.id)
    await engine_only.provider.holding()
    assert engine_only.conversations.stop(alice.id, conversation.id) is regenerated
    await regenerated.wait()
    engine_only.provider.release()
    assert regenerated.status == MessageStatus.CANCELLED and engine_only.provider.closed_early == 1
    assert await path_of(engine_only, alice.id, conversation.id) == ["one", "x"]
    await engine_only.conversations.delete(alice.id, conversation.id)
    with pytest.raises(ConversationNotFound):
        await engine_only.conversations.path(alice.id, conversation.id)


async def test_every_watcher_hears_replies_start_and_titles_change(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    seen: list[object] = []
    unsubscribe = engine_only.conversations.subscribe(conversation.id, seen.append)
    generation = await engine_only.conversations.send(alice.id, conversation.id, "hi")
    await generation.wait()
    await engine_only.conversations.rename(alice.id, conversation.id, "Mine")
    unsubscribe()
    await engine_only.conversations.rename(alice.id, conversation.id, "Unheard")
    assert seen[0] == ReplyStarted(generation) and TitleChanged("Mine") in seen
    assert TitleChanged("Unheard") not in seen


async def test_shutdown_keeps_an_edited_reply_as_interrupted(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    await exchange(engine_only, alice.id, conversation.id, "one", "A1")
    question = (await engine_only.conversations.path(alice.id, conversation.id)).messages[0]
    engine_only.provider.then(Reply(tokens=["p", "q", "r"], hold=1))
    edited = await engine_only.conversations.edit(alice.id, conversation.id, question.id, "uno")
    await engine_only.provider.holding()
    await engine_only.engine.shutdown()
    engine_only.provider.release()
    assert edited.status == MessageStatus.INTERRUPTED
    reply = (await engine_only.conversations.path(alice.id, conversation.id)).messages[-1]
    assert (reply.content, reply.status) == ("p", MessageStatus.INTERRUPTED)


async def test_checkpoints_cover_regenerated_replies(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    await exchange(engine_only, alice.id, conversation.id, "one", "A1")
    engine_only.provider.then(Reply(tokens=["c1", "c2", "c3"], hold=2))
    regenerated = await engine_only.conversations.regenerate(alice.id, conversation.id)
    await engine_only.provider.holding()
    async with asyncio.timeout(5):
        while (await engine_only.chats.tree(alice.id, conversation.id)).messages[-1].content != "c1c2":
            await engine_only.engine.checkpoint()
    engine_only.provider.release()
    await regenerated.wait()


async def test_a_reply_is_asked_with_the_newest_turns_that_fit_the_prompt_budget(engine_only: EngineOnly):
    alice = await engine_only.user()
    conversation = await engine_only.conversations.create(alice.id)
    for n in range(1, 6):
        await exchange(engine_only, alice.id, conversation.id, f"question {n}", f"answer {n:03}")  # 10 characters each
    engine_only.engine.options = dataclasses.replace(engine_only.engine.options, prompt_max_chars=45)
    await exchange(engine_only, alice.id, conversation.id, "question 6", "answer 006")
    # 45 - 10 for the new message leaves 35: answer 005, question 5, answer 004 fit and question 4 does not; the
    # prompt then starts at the first question, not with a reply whose question was cut off.
    assert asked(engine_only) == [("user", "question 5"), ("assistant", "answer 005"), ("user", "question 6")]
    engine_only.provider.then(Reply(tokens=["answer 006 again"]))
    await (await engine_only.conversations.regenerate(alice.id, conversation.id)).wait()
    assert asked(engine_only) == [("user", "question 5"), ("assistant", "answer 005"), ("user", "question 6")]
    assert len(await path_of(engine_only, alice.id, conversation.id)) == 12  # nothing left the conversation
