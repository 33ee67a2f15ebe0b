"""A reply as the coordination sees it: what it announces to the other instances, streams to them, and fills in a
mirror of one they write.

Defined here, below the engine, so that the dependency points one way (the engine imports coordination, never the
reverse: `tests/test_layering.py`). The engine's `Generation` is a `Reply`; it also builds the mirrors
(`InstanceHooks.mirror`), so the coordination never needs to know the class.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from providers import Usage


class CancelReason(StrEnum):
    """Why the engine cancelled a reply, which decides how it is stored (and what Stop or Delete asks of the
    instance that writes a reply)."""

    STOPPED = "stopped"
    """The user pressed Stop (or signed out): kept as `cancelled`."""
    DELETED = "deleted"
    """Its conversation is being deleted (or its first write failed): nothing more is written."""
    SHUTDOWN = "shutdown"
    """The server is stopping: kept as `interrupted`."""


class StepEvent(Protocol):
    """A tool step's frame for readers (`tool_call`, `tool_approval`, `tool_result`; issue 24), after `at` text
    deltas: the engine's `ToolEvent`."""

    at: int
    frame: dict[str, Any]
    seconds: float | None


class Reply(Protocol):
    """What the coordination reads of a reply this instance writes, and fills in a mirror of one written elsewhere."""

    @property
    def conversation_id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def parent_id(self) -> str | None: ...
    @property
    def model(self) -> str: ...
    @property
    def user_message_id(self) -> str | None: ...
    @property
    def user_content(self) -> str | None: ...
    @property
    def user_parent_id(self) -> str | None: ...
    @property
    def session_id(self) -> str | None: ...
    @property
    def prefix(self) -> str: ...
    @property
    def chunks(self) -> list[str]: ...
    @property
    def reasoning(self) -> list[str]: ...
    @property
    def tool_events(self) -> Sequence[StepEvent]: ...
    @property
    def status(self) -> str: ...
    @property
    def error(self) -> str | None: ...
    @property
    def error_code(self) -> str | None: ...

    usage: Usage | None

    def publish(self, text: str) -> None: ...
    def think(self, text: str) -> None: ...
    def mirror_step(self, at: int, frame: dict[str, Any], seconds: float | None = None) -> None: ...
    def finish(self, status: str, error: str | None = None, error_code: str | None = None) -> None: ...
    def follow(self, start: int = 0) -> AsyncIterator[list[str]]: ...


@dataclass(frozen=True, slots=True)
class ReplyMeta:
    """What every instance knows of a reply one of them writes: its owner, and what a follower needs to show it."""

    owner: str
    """The instance that writes it (its id; its lease says whether it is alive)."""
    message_id: str
    conversation_id: str
    user_id: str
    session_id: str | None
    parent_id: str | None
    user_message_id: str | None
    user_content: str | None
    user_parent_id: str | None
    model: str
    prefix: str = ""
    """A continued reply's earlier text (its deltas come after it)."""

    @classmethod
    def of(cls, reply: Reply, owner: str) -> ReplyMeta:
        return cls(
            owner=owner,
            message_id=reply.message_id,
            conversation_id=reply.conversation_id,
            user_id=reply.user_id,
            session_id=reply.session_id,
            parent_id=reply.parent_id,
            user_message_id=reply.user_message_id,
            user_content=reply.user_content,
            user_parent_id=reply.user_parent_id,
            model=reply.model,
            prefix=reply.prefix,
        )
