"""What the instances say to each other through Redis: key names, typed messages and their JSON, the Lua scripts.

Everything that crosses the wire is a frozen dataclass or a `StrEnum` here, encoded and decoded in this one module,
so a field renamed on one side cannot go unnoticed on the other. The JSON is the same as before these types
existed (`{"kind": "started", "origin": ..., <the reply's fields>}` and so on): instances of both versions can run
side by side during a rolling upgrade.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

import orjson
from redis.typing import EncodableT, FieldT

from chatui.coordination.base import RevocationKind
from chatui.coordination.reply import CancelReason, ReplyMeta
from providers import Usage


class Keys:
    """Every key, under one prefix (`CHATUI_REDIS_PREFIX`); the package's docstring says what each holds."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.replies = f"{prefix}replies"
        self.events = f"{prefix}events"
        self.limits = f"{prefix}limits"
        self.lease_prefix = f"{prefix}instance:"
        """`instance:<id>` is an instance's lease; the Lua scripts add an id to this to test one."""

    def instance(self, instance_id: str) -> str:
        return self.lease_prefix + instance_id

    def busy(self, conversation_id: str) -> str:
        return f"{self.prefix}busy:{conversation_id}"

    def reply(self, message_id: str) -> str:
        return f"{self.prefix}reply:{message_id}"

    def wake(self, instance_id: str) -> str:
        return f"{self.prefix}wake:{instance_id}"

    def sockets(self, kind: str, identifier: str) -> str:
        return f"{self.prefix}sockets:{kind}:{identifier}"

    def attempts(self, limit: str, key: str) -> str:
        return f"{self.prefix}attempts:{limit}:{key}"

    def attempts_ended(self, limit: str, key: str) -> str:
        return f"{self.prefix}attempts-ended:{limit}:{key}"


# -- a reply's record and its stream ---------------------------------------------------------------------------------

_META_FIELDS = tuple(field.name for field in fields(ReplyMeta))


def encode_meta(meta: ReplyMeta) -> bytes:
    return orjson.dumps(meta)


def decode_meta(raw: bytes | str) -> ReplyMeta:
    return _meta_from(orjson.loads(raw))


def _meta_from(data: dict[str, Any]) -> ReplyMeta:
    known: dict[str, Any] = {name: data.get(name) for name in _META_FIELDS}  # an older instance wrote more
    return ReplyMeta(**known)


@dataclass(frozen=True, slots=True)
class Deltas:
    """One entry of a reply's stream: its texts from index `first` on (batched: one entry per flush)."""

    first: int
    texts: list[str]

    def fields(self) -> dict[FieldT, EncodableT]:
        return {"i": self.first, "t": orjson.dumps(self.texts)}


@dataclass(frozen=True, slots=True)
class Thoughts:
    """One entry of a reply's stream: its reasoning deltas from index `first` on (issue 24; batched like `Deltas`)."""

    first: int
    texts: list[str]

    def fields(self) -> dict[FieldT, EncodableT]:
        return {"ri": self.first, "r": orjson.dumps(self.texts)}


@dataclass(frozen=True, slots=True)
class ToolFrames:
    """One entry of a reply's stream: its tool events from index `first` on (issue 24), each `[at, frame]`: the
    frame readers are sent, after `at` text deltas (so a mirror puts it where the owner had it).

    `seconds` maps a finished call's event index to how long it took, so that a page on another instance shows the
    same duration (the `/ws` frame has no field for it). It travels in a field of its own, `sd`, present only when
    there is one: an instance that predates it ignores the field, and `[at, frame]` keeps the shape it unpacks."""

    first: int
    frames: list[list[Any]]
    seconds: dict[int, float] = field(default_factory=dict)

    def fields(self) -> dict[FieldT, EncodableT]:
        encoded: dict[FieldT, EncodableT] = {"si": self.first, "s": orjson.dumps(self.frames)}
        if self.seconds:
            encoded["sd"] = orjson.dumps({str(index): took for index, took in self.seconds.items()})
        return encoded


@dataclass(frozen=True, slots=True)
class ReplyEnd:
    """The last entry of a reply's stream: how it ended."""

    status: str
    error: str | None = None
    code: str | None = None
    usage: Usage | None = None

    def fields(self) -> dict[FieldT, EncodableT]:
        usage = [self.usage.prompt_tokens, self.usage.completion_tokens] if self.usage else None
        return {"end": orjson.dumps({"status": self.status, "error": self.error, "code": self.code, "usage": usage})}


def _durations(raw: bytes | str | None) -> dict[int, float]:
    """`ToolFrames.seconds` from its `sd` field (none when absent); what is not an index and a number is skipped."""
    if raw is None:
        return {}
    decoded = orjson.loads(raw)
    if not isinstance(decoded, dict):
        return {}
    return {
        int(index): float(took)
        for index, took in decoded.items()
        if index.isdigit() and isinstance(took, int | float) and not isinstance(took, bool)
    }


def decode_entry(
    entry: dict[bytes, bytes] | dict[bytes | str, bytes | str],
) -> Deltas | Thoughts | ToolFrames | ReplyEnd | None:
    """A stream entry as written by `Deltas.fields`, `Thoughts.fields`, `ToolFrames.fields` or `ReplyEnd.fields`;
    None for anything else."""
    if b"t" in entry:
        return Deltas(int(entry[b"i"]), orjson.loads(entry[b"t"]))
    if b"r" in entry:
        return Thoughts(int(entry[b"ri"]), orjson.loads(entry[b"r"]))
    if b"s" in entry:
        return ToolFrames(int(entry[b"si"]), orjson.loads(entry[b"s"]), _durations(entry.get(b"sd")))
    if b"end" in entry:
        end = orjson.loads(entry[b"end"])
        usage = end.get("usage")
        return ReplyEnd(
            end["status"],
            end.get("error"),
            end.get("code"),
            Usage(prompt_tokens=usage[0], completion_tokens=usage[1]) if usage else None,
        )
    return None


def entry_order(entry_id: bytes | str) -> tuple[int, int]:
    """A stream entry's id ("<milliseconds>-<sequence>") as something that sorts."""
    milliseconds, _, sequence = (entry_id.encode() if isinstance(entry_id, str) else entry_id).partition(b"-")
    return int(milliseconds), int(sequence or 0)


# -- events (pub/sub) --------------------------------------------------------------------------------------------------


class EventKind(StrEnum):
    STARTED = "started"
    ENDED = "ended"
    STOP = "stop"
    APPROVE = "approve"
    REVOKE_USER = "revoke_user"
    REVOKE_SESSION = "revoke_session"


@dataclass(frozen=True, slots=True)
class Started:
    """A reply began on `origin`: follow it from its stream."""

    origin: str
    meta: ReplyMeta


@dataclass(frozen=True, slots=True)
class Ended:
    """A reply ended (or its owner was found gone): its conversation is free."""

    origin: str
    message_id: str
    conversation_id: str


@dataclass(frozen=True, slots=True)
class StopAsked:
    """Stop or Delete pressed on `origin` for a reply another instance writes."""

    origin: str
    conversation_id: str
    reason: CancelReason


@dataclass(frozen=True, slots=True)
class ApproveAsked:
    """Allow or Deny pressed on `origin` for a tool call waiting in a reply another instance writes (issue 24); the
    owner checks that the reply is `user_id`'s."""

    origin: str
    conversation_id: str
    user_id: str
    call_id: str
    allow: bool


@dataclass(frozen=True, slots=True)
class Revoked:
    """A session, or every session of a user, ended on `origin`."""

    origin: str
    kind: RevocationKind
    identifier: str


Event = Started | Ended | StopAsked | ApproveAsked | Revoked

_REVOCATION_EVENTS = {RevocationKind.USER: EventKind.REVOKE_USER, RevocationKind.SESSION: EventKind.REVOKE_SESSION}
_REVOCATIONS = {kind: revocation for revocation, kind in _REVOCATION_EVENTS.items()}


def encode_event(event: Event) -> bytes:
    body: dict[str, Any]
    match event:
        case Started():
            body = {"kind": EventKind.STARTED, "origin": event.origin, **asdict(event.meta)}
        case Ended():
            body = {"kind": EventKind.ENDED, "origin": event.origin, "message_id": event.message_id}
            body["conversation_id"] = event.conversation_id
        case StopAsked():
            body = {"kind": EventKind.STOP, "origin": event.origin, "conversation_id": event.conversation_id}
            body["reason"] = event.reason
        case ApproveAsked():
            body = {"kind": EventKind.APPROVE, "origin": event.origin, "conversation_id": event.conversation_id}
            body |= {"user_id": event.user_id, "call_id": event.call_id, "allow": event.allow}
        case Revoked():
            body = {"kind": _REVOCATION_EVENTS[event.kind], "origin": event.origin, "id": event.identifier}
    return orjson.dumps(body)


def decode_event(raw: bytes) -> Event:
    """Raises `ValueError` (or `KeyError`) for a message that is none of these."""
    data = orjson.loads(raw)
    kind = EventKind(data["kind"])
    origin = data["origin"]
    match kind:
        case EventKind.STARTED:
            return Started(origin, _meta_from(data))
        case EventKind.ENDED:
            return Ended(origin, data["message_id"], data["conversation_id"])
        case EventKind.STOP:
            return StopAsked(origin, data["conversation_id"], CancelReason(data["reason"]))
        case EventKind.APPROVE:
            return ApproveAsked(origin, data["conversation_id"], data["user_id"], data["call_id"], bool(data["allow"]))
        case EventKind.REVOKE_USER | EventKind.REVOKE_SESSION:
            return Revoked(origin, _REVOCATIONS[kind], data["id"])


# -- Lua scripts -----------------------------------------------------------------------------------------------------

LIVE_COUNT = """
local function live(key, lease_prefix)
    local total, fields = 0, redis.call('HGETALL', key)
    for i = 1, #fields, 2 do
        if redis.call('EXISTS', lease_prefix .. fields[i]) == 1 then
            total = total + tonumber(fields[i + 1])
        else
            redis.call('HDEL', key, fields[i])
        end
    end
    return total
end
"""
"""A hash of counts per instance: the sum over the instances whose lease is alive (a dead one's count is dropped)."""

RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
"""Delete a key only if this instance holds it (a busy guard that expired and was taken by another stays theirs)."""

TAKE_SOCKET = (
    LIVE_COUNT
    + """
if live(KEYS[1], ARGV[4]) >= tonumber(ARGV[2]) or live(KEYS[2], ARGV[4]) >= tonumber(ARGV[3]) then return 0 end
for _, key in ipairs(KEYS) do
    redis.call('HINCRBY', key, ARGV[1], 1)
    redis.call('EXPIRE', key, 86400)
end
return 1
"""
)
"""Take a socket slot under both caps (per user, per session), counting every instance whose lease is alive."""

GIVE_SOCKET = """
for _, key in ipairs(KEYS) do
    if redis.call('HINCRBY', key, ARGV[1], -1) <= 0 then redis.call('HDEL', key, ARGV[1]) end
end
"""
