"""The conversation service's one error tree: every refusal is a `ConversationError`, so an edge catches one type.

    ConversationError        `message` can be shown as is
    ├── NotFound             someone else's conversation (or message) looks exactly like a missing one
    │   ├── ConversationNotFound
    │   └── MessageNotFound
    ├── InvalidInput         a value breaks a rule; `field` names which
    └── SendRefused          no reply was started and nothing saved; `reason` is a `Refusal`
        └── TooManyConversations   more new conversations than the limit: refused like too many messages

The edges map them in one place each: HTTP statuses in `chatui.api.errors`, `/ws` codes in `chatui.api.ws`.
"""

from __future__ import annotations

from chatui.engine.errors import Refusal, ReplyRefused

__all__ = [
    "BUSY",
    "ConversationError",
    "ConversationNotFound",
    "InvalidInput",
    "MessageNotFound",
    "NotFound",
    "Refusal",
    "SendRefused",
    "TooManyConversations",
]

BUSY = "A reply is still being written in this conversation; wait for it or stop it."


class ConversationError(Exception):
    """Refused by the service; `message` can be shown as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ConversationError):
    """The conversation (or the message) does not exist for this user: someone else's looks exactly the same."""


class ConversationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("This conversation does not exist.")


class MessageNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("That message is not in this conversation.")


class InvalidInput(ConversationError):
    """A value breaks a rule (`field` names which)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SendRefused(ConversationError):
    """A message was not accepted; nothing was saved. The edges map `reason`."""

    def __init__(self, reason: Refusal, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after = retry_after

    @classmethod
    def by_engine(cls, refused: ReplyRefused) -> SendRefused:
        """The engine's refusal, in words."""
        wait = refused.retry_after
        words = {
            Refusal.BUSY: BUSY,
            Refusal.RATE_LIMITED: f"Too many messages; try again in {wait or 0:g} s.",
            Refusal.UNAVAILABLE: "The server cannot start a reply right now; try again.",
            Refusal.NOTHING_TO_REGENERATE: "There is no message to answer again.",
        }
        return cls(refused.reason, words.get(refused.reason, "The message was not accepted."), retry_after=wait)


class TooManyConversations(SendRefused):
    """More new conversations than `CHATUI_CONVERSATIONS_PER_MINUTE` allows; nothing was created. Answered like the
    message limit (`Refusal.RATE_LIMITED`, with `retry_after`)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            Refusal.RATE_LIMITED,
            f"Too many new conversations; try again in {retry_after:g} s.",
            retry_after=retry_after,
        )
