"""Conversation owners read recently, reused by the next `/ws` handshake instead of read again.

A client that creates a conversation and opens its socket, or opens one socket after another, had its ownership
check read from the database each time: a trip to the database thread of ~1 ms of a handshake (issue 28, first
token from connect). A conversation's owner never changes, and a deletion here forgets it at once. One deleted on
another instance within the reuse time still has its former owner here, so that owner's socket opens and its first
frame is answered `not_found` — the answer never names anyone else's conversation.
"""

from __future__ import annotations

import time

MAX_REUSED = 10_000
"""Owners kept at once: a bound on memory, not a setting (past it, the stale ones go, or all of them)."""


class RecentOwners:
    """Conversation id -> owner, each for `seconds` after it was read or the conversation was made (0: never)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._owners: dict[str, tuple[float, str]] = {}

    def get(self, conversation_id: str) -> str | None:
        known = self._owners.get(conversation_id)
        if known is None:
            return None
        if time.monotonic() - known[0] >= self.seconds:
            del self._owners[conversation_id]
            return None
        return known[1]

    def remember(self, conversation_id: str, owner: str) -> None:
        if not self.seconds:
            return
        now = time.monotonic()
        if len(self._owners) >= MAX_REUSED:
            self._owners = {k: v for k, v in self._owners.items() if now - v[0] < self.seconds}
            if len(self._owners) >= MAX_REUSED:
                self._owners.clear()
        self._owners[conversation_id] = (now, owner)

    def forget(self, conversation_id: str) -> None:
        self._owners.pop(conversation_id, None)
