"""The Redis wire: every message decodes to what was sent, and its JSON is the shape instances already running
expect (so old and new instances can run side by side during a rolling upgrade)."""

from __future__ import annotations

import orjson
import pytest

from chatui.coordination.base import RevocationKind
from chatui.coordination.redis.wire import (
    Deltas,
    Ended,
    ReplyEnd,
    Revoked,
    Started,
    StopAsked,
    ToolFrames,
    decode_entry,
    decode_event,
    decode_meta,
    encode_event,
    encode_meta,
)
from chatui.coordination.reply import CancelReason, ReplyMeta
from providers import Usage

META = ReplyMeta(
    owner="instance-a",
    message_id="m1",
    conversation_id="c1",
    user_id="u1",
    session_id="s1",
    parent_id="p1",
    user_message_id="p1",
    user_content="hello",
    user_parent_id=None,
    model="ollama:llama3.2:3b",
)


@pytest.mark.parametrize(
    ("event", "json"),
    [
        (Started("a", META), {"kind": "started", "origin": "a", **orjson.loads(encode_meta(META))}),
        (Ended("a", "m1", "c1"), {"kind": "ended", "origin": "a", "message_id": "m1", "conversation_id": "c1"}),
        (
            StopAsked("a", "c1", CancelReason.DELETED),
            {"kind": "stop", "origin": "a", "conversation_id": "c1", "reason": "deleted"},
        ),
        (Revoked("a", RevocationKind.USER, "u1"), {"kind": "revoke_user", "origin": "a", "id": "u1"}),
        (Revoked("a", RevocationKind.SESSION, "s1"), {"kind": "revoke_session", "origin": "a", "id": "s1"}),
    ],
)
def test_each_event_keeps_its_json_and_decodes_to_what_was_sent(event, json):
    raw = encode_event(event)
    assert orjson.loads(raw) == json
    decoded = decode_event(raw)
    assert decoded == event
    if isinstance(decoded, StopAsked):
        assert decoded.reason is CancelReason.DELETED  # the enum, not a string to parse again


def test_a_reply_record_written_by_an_older_instance_still_reads():
    older = {**orjson.loads(encode_meta(META)), "origin": "instance-a"}  # it also wrote who sent it
    assert decode_meta(orjson.dumps(older)) == META


def test_an_unknown_event_is_refused_rather_than_half_read():
    with pytest.raises(ValueError):
        decode_event(orjson.dumps({"kind": "restart", "origin": "a"}))


def test_stream_entries_decode_to_deltas_and_an_end():
    assert decode_entry(as_stored(Deltas(3, ["a", "b"]))) == Deltas(3, ["a", "b"])
    end = ReplyEnd("error", "it broke", "provider_error", Usage(prompt_tokens=5, completion_tokens=7))
    stored = {key.encode(): value for key, value in end.fields().items()}
    assert decode_entry(stored) == end
    assert orjson.loads(stored[b"end"]) == {
        "status": "error",
        "error": "it broke",
        "code": "provider_error",
        "usage": [5, 7],
    }
    assert decode_entry({b"w": b"1"}) is None


def as_stored(entry: Deltas | ToolFrames) -> dict[bytes, bytes]:
    """The entry's fields as Redis gives them back: bytes."""
    return {
        key.encode(): str(value).encode() if isinstance(value, int) else value for key, value in entry.fields().items()
    }


def test_tool_frames_carry_a_calls_duration_beside_the_frames_an_older_instance_reads():
    result = {"type": "tool_result", "call_id": "c1", "content": "42", "is_error": False}
    finished = ToolFrames(4, [[2, {"type": "tool_call", "call_id": "c1"}], [2, result]], {5: 1.25})
    stored = as_stored(finished)
    assert decode_entry(stored) == finished
    assert orjson.loads(stored[b"sd"]) == {"5": 1.25}
    assert [len(event) for event in orjson.loads(stored[b"s"])] == [2, 2]  # `for at, frame in ...` still unpacks

    older = {key: value for key, value in stored.items() if key != b"sd"}  # written by an instance before durations
    assert decode_entry(older) == ToolFrames(4, finished.frames)
    assert b"sd" not in as_stored(ToolFrames(0, [[0, result]]))
    garbled = {**stored, b"sd": orjson.dumps({"5": "soon", "x": 1, "6": True, "7": 3})}
    assert decode_entry(garbled) == ToolFrames(4, finished.frames, {7: 3.0})
