"""Cookie checks made recently, reused by the next request instead of read again.

A client that creates a conversation and then opens its socket, or opens one socket after another, had its cookie
checked against the database each time: a trip to the database thread of ~1 ms of a socket's handshake (issue 28,
first token from connect). A check is reused for `reuse` after it was read, while the session needs no touch (its
last use is written at most once a `touch` interval, which re-reads it), and until the session's end. Revocations —
made here or announced by another instance (`AuthService.session_revoked_here`, `user_revoked_here`) — drop the
session's and the account's checks at once, as they close its live pages; and a check that a revocation overtook
while it was being read is not kept (`revocations`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import SignedIn

MAX_REUSED = 10_000
"""Checks kept at once: a bound on memory, not a setting (past it, the stale ones go, or all of them)."""


@dataclass(frozen=True, slots=True)
class _Checked:
    signed_in: SignedIn
    at: datetime
    last_seen: datetime


class RecentChecks:
    """Token hash -> the session and account it resolved to, for `reuse` after the read (zero: never reused)."""

    def __init__(self, reuse: timedelta, touch: timedelta) -> None:
        self.reuse = reuse
        self.touch = touch
        self.revocations = 0
        """Counts `forget`: a caller compares it before and after its read, and keeps nothing if it moved."""
        self._checks: dict[str, _Checked] = {}

    def get(self, token_hash: str, now: datetime) -> SignedIn | None:
        checked = self._checks.get(token_hash)
        if checked is None:
            return None
        if now - checked.at >= self.reuse or now - checked.last_seen >= self.touch:
            del self._checks[token_hash]
            return None
        if now >= checked.signed_in.session.expires_at:
            del self._checks[token_hash]
            return None
        return checked.signed_in

    def remember(self, token_hash: str, signed_in: SignedIn, now: datetime, last_seen: datetime) -> None:
        """`signed_in`, checked live at `now`; the session's last use is `last_seen` (touched or not)."""
        if not self.reuse:
            return
        if len(self._checks) >= MAX_REUSED:
            self._checks = {k: c for k, c in self._checks.items() if now - c.at < self.reuse}
            if len(self._checks) >= MAX_REUSED:
                self._checks.clear()
        self._checks[token_hash] = _Checked(signed_in, now, last_seen)

    def forget(self, *, session_id: str | None = None, user_id: str | None = None) -> None:
        """A revocation: this session's checks, or every check of this account, go."""
        self.revocations += 1
        for token_hash, checked in list(self._checks.items()):
            if checked.signed_in.session.id == session_id or checked.signed_in.user.id == user_id:
                del self._checks[token_hash]
