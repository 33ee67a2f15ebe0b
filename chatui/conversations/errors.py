"""The conversation service's one error tree: every refusal is a `ConversationError`, so an edge catches one type.

    ConversationError        `message` can be shown as is
    ├── NotFound             someone else's conversation (or message) looks exactly like a missing one
    │   ├── ConversationNotFound
    │   └── MessageNotFound
    ├── InvalidInput         a value breaks a rule; `field` names which
    ├── ReadOnly             it may be seen (a published preset), not changed: or an administrator's to do
    └── SendRefused          no reply was started and nothing saved; `reason` is a `Refusal`
        └── TooManyConversations   more new conversations than the limit: refused like too many messages

The edges map them in one place each: HTTP statuses in `chatui.api.errors`, `/ws` codes in `chatui.api.ws`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from chatui.engine.errors import Refusal, ReplyRefused
from chatui.files.errors import FileProblem, FileRefused
from storage import ConversationGone, MessageGone
from storage.files import FileGone

__all__ = [
    "BUSY",
    "ConversationError",
    "ConversationNotFound",
    "InvalidInput",
    "MessageNotFound",
    "NotFound",
    "ReadOnly",
    "Refusal",
    "SendRefused",
    "TooManyConversations",
    "translated",
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


class FileNotFound(NotFound):
    """A file sent with a message is not one of the user's (someone else's looks exactly like a missing one)."""

    def __init__(self) -> None:
        super().__init__("One of the attached files does not exist (or was deleted); attach it again.")


class InvalidInput(ConversationError):
    """A value breaks a rule (`field` names which)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ReadOnly(ConversationError):
    """The user may see this but not change it (someone else's published preset; publishing is for administrators)."""


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
            Refusal.NOTHING_TO_CONTINUE: "There is no reply to continue: the conversation does not end in one.",
        }
        message = refused.message or words.get(refused.reason, "The message was not accepted.")
        return cls(refused.reason, message, retry_after=wait)


class TooManyConversations(SendRefused):
    """More new conversations than `CHATUI_CONVERSATIONS_PER_MINUTE` allows; nothing was created. Answered like the
    message limit (`Refusal.RATE_LIMITED`, with `retry_after`)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            Refusal.RATE_LIMITED,
            f"Too many new conversations; try again in {retry_after:g} s.",
            retry_after=retry_after,
        )


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """The engine's refusals, storage's not-found exceptions and the file store's refusals become the service's
    own (a file refusal other than their number passes as is: `FileRefused` is already the files' one error)."""
    try:
        yield
    except ReplyRefused as exc:
        raise SendRefused.by_engine(exc) from None
    except ConversationGone as exc:
        raise ConversationNotFound from exc
    except MessageGone as exc:
        raise MessageNotFound from exc
    except FileGone:
        raise FileNotFound from None
    except FileRefused as refused:
        if refused.reason is FileProblem.TOO_MANY_FILES:
            raise SendRefused(Refusal.TOO_MANY_FILES, refused.message) from None
        raise
