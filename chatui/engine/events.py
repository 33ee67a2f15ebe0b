"""What happens to a conversation, told to everyone watching it: open pages, `/ws` sockets.

One small hub per process. The engine and the conversation service publish; pages and sockets subscribe to one
conversation and get every event in order, on the event loop, synchronously (a subscriber that has slow work to do
starts a task). Carrying the events between several instances (Redis) means replacing this one class, whose whole
interface is `subscribe` and `publish`; every event but `ReplyStarted` is plain data for that reason (a reply that
starts on another instance is followed there through its own channel).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatui.engine.generation import Generation

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    """A reply began streaming (its user message, if it brought one, is stored)."""

    generation: Generation


@dataclass(frozen=True, slots=True)
class PathChanged:
    """The active path now ends at `leaf_id` (another version was picked); a reply that starts says so itself."""

    leaf_id: str | None


@dataclass(frozen=True, slots=True)
class TitleChanged:
    title: str


ConversationEvent = ReplyStarted | PathChanged | TitleChanged
Subscriber = Callable[[ConversationEvent], None]


class ConversationEvents:
    """Subscribers per conversation; `publish` calls each of them, and one failing does not stop the others."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = {}

    def subscribe(self, conversation_id: str, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber(event)` for every event of this conversation from now on; returns the unsubscribe."""
        self._subscribers.setdefault(conversation_id, set()).add(subscriber)

        def unsubscribe() -> None:
            subscribers = self._subscribers.get(conversation_id)
            if subscribers is not None:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self._subscribers[conversation_id]

        return unsubscribe

    def publish(self, conversation_id: str, event: ConversationEvent) -> None:
        for subscriber in list(self._subscribers.get(conversation_id, ())):
            try:
                subscriber(event)
            except Exception:
                log.exception("a subscriber of conversation %s failed on %s", conversation_id, type(event).__name__)

    def watched(self, conversation_id: str) -> bool:
        """Whether anyone is subscribed to this conversation now."""
        return bool(self._subscribers.get(conversation_id))
