"""Create-and-send as one rule: a conversation exists from its first message on, and a first message that is refused
(before or after the conversation was made) leaves nothing behind. On the app's own wiring (`build_services`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatui.conversations.errors import InvalidInput, Refusal, SendRefused
from testing.fakes.inprocess import Reply
from tests.chatui.conftest import EngineOnly, engine_only_services


async def test_start_makes_the_conversation_with_its_first_message_and_reply(engine_only: EngineOnly):
    alice = await engine_only.user()
    engine_only.provider.then(Reply(tokens=["Hello", "!"]))
    conversation, generation = await engine_only.conversations.start(alice.id, "  Say hello to me, please  ")
    await generation.wait()
    stored = await engine_only.conversations.get(alice.id, conversation.id)
    assert stored.title == "Say hello to me, please"
    path = await engine_only.conversations.path(alice.id, conversation.id)
    assert [(m.role, m.content) for m in path.messages] == [
        ("user", "  Say hello to me, please  "),
        ("assistant", "Hello!"),
    ]


async def test_a_message_refused_before_anything_is_made_makes_nothing(engine_only: EngineOnly):
    alice = await engine_only.user()
    for content, model, refused in (
        ("   ", None, SendRefused),
        ("x" * 32_001, None, SendRefused),
        ("hi", "\x00", InvalidInput),
    ):
        with pytest.raises(refused):
            await engine_only.conversations.start(alice.id, content, model)
    assert (await engine_only.conversations.list(alice.id)).conversations == []


async def test_a_first_message_the_engine_refuses_leaves_no_empty_conversation(tmp_path: Path):
    async for app in engine_only_services(tmp_path, ai_titles=False, messages_per_minute=1):
        alice = await app.user()
        first, generation = await app.conversations.start(alice.id, "one")
        await generation.wait()
        with pytest.raises(SendRefused) as refused:  # the second message of the minute: made, refused, taken back
            await app.conversations.start(alice.id, "two")
        assert refused.value.reason is Refusal.RATE_LIMITED and refused.value.retry_after
        assert [c.id for c in (await app.conversations.list(alice.id)).conversations] == [first.id]
