"""Why the engine did not start a reply. The engine says *why* (a `Refusal`); the conversation service turns that
into its own `SendRefused`, with the words a person reads (`chatui.conversations.errors`)."""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """Why a message (or a regenerate, or an edit) was not accepted; nothing was saved."""

    EMPTY = "empty"
    INVALID = "invalid"
    TOO_LONG = "too_long"
    BUSY = "busy"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    """The busy guard shared by several instances cannot be checked."""
    NOTHING_TO_REGENERATE = "nothing_to_regenerate"
    NOTHING_TO_CONTINUE = "nothing_to_continue"
    """Continue, but the conversation does not end in a finished reply with text."""
    TOO_MANY_FILES = "too_many_files"
    """More files on one message than CHATUI_ATTACHMENTS_PER_MESSAGE."""
    IMAGES_UNSUPPORTED = "images_unsupported"
    """The message answered carries images and the model cannot see images (known before asking it)."""


class ReplyRefused(Exception):
    """The engine started no reply (and saved nothing) for `reason`; `retry_after` seconds when waiting helps;
    `message`, when the engine has the words (they name the model, say)."""

    def __init__(self, reason: Refusal, *, retry_after: float | None = None, message: str | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.retry_after = retry_after
        self.message = message
