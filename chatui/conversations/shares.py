"""Share links (issue 26): a conversation's snapshot behind a secret token, and copying it into another account.

The token is 256 bits: an HMAC-SHA256 of the link's random seed under the app's secret (`CHATUI_SECRET` or
`secret.key`). Only the seed and a second, differently keyed HMAC of the token (to find the link) are stored, so
the database alone opens no link, yet the owner can be shown theirs again ("Copy link" in their list). Changing the
secret therefore ends every link, as it ends every sign-in.

A link that does not exist, was revoked or expired looks the same to everyone: `ShareNotFound` (404).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatui.conversations.errors import ConversationNotFound, NotFound, TooManyConversations
from chatui.coordination.throttles import Throttle
from chatui.files.errors import FileProblem, FileRefused
from storage.files import QuotaExceeded
from storage.models import utcnow
from storage.shares import SharedConversation, ShareInfo, ShareRepository

EXPIRY_DAYS_MAX = 365
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


class ShareNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("This share link does not exist, was revoked or has expired.")


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A link with its token (for its owner: the token is theirs to copy again)."""

    info: ShareInfo
    token: str

    @property
    def expired(self) -> bool:
        return self.info.expires_at is not None and self.info.expires_at <= utcnow()


class ShareService:
    def __init__(self, shares: ShareRepository, secret: bytes, *, creations: Throttle | None, quota_bytes: int) -> None:
        self.shares = shares
        self._secret = secret
        self.creations = creations
        self.quota_bytes = quota_bytes

    def token_of(self, seed: str) -> str:
        digest = hmac.new(self._secret, b"chatui share link\0" + seed.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _hash(self, token: str) -> str:
        return hmac.new(self._secret, b"chatui share lookup\0" + token.encode(), hashlib.sha256).hexdigest()

    def _link(self, info: ShareInfo) -> ShareLink:
        return ShareLink(info, self.token_of(info.seed))

    async def share(
        self, user_id: str, conversation_id: str, expires_in_days: int | None = None, *, until: datetime | None = None
    ) -> ShareLink:
        """Snapshot the conversation's active path now, behind its link (the same link if it was shared before);
        it expires `expires_in_days` from now, or at `until` (a link's current expiry, kept by an update), or never.
        `ConversationNotFound` if it is not the user's."""
        seed = secrets.token_urlsafe(32)
        expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else until
        info = await self.shares.share(
            user_id, conversation_id, seed=seed, token_hash=self._hash(self.token_of(seed)), expires_at=expires_at
        )
        if info is None:
            raise ConversationNotFound
        return self._link(info)

    async def link_of(self, user_id: str, conversation_id: str) -> ShareLink | None:
        """The conversation's link, if the user shared it."""
        info = await self.shares.of_conversation(user_id, conversation_id)
        return None if info is None else self._link(info)

    async def revoke(self, user_id: str, conversation_id: str) -> None:
        """End the conversation's link now, on every instance (the row is gone). `ShareNotFound` if there is none."""
        if not await self.shares.revoke(user_id, conversation_id):
            raise ShareNotFound

    async def links(self, user_id: str) -> list[ShareLink]:
        return [self._link(info) for info in await self.shares.of_user(user_id)]

    async def all_links(self) -> list[ShareInfo]:
        """Every user's links (an administrator's list: without their tokens)."""
        return await self.shares.everyone()

    async def revoke_any(self, share_id: str) -> None:
        if not await self.shares.revoke_any(share_id):
            raise ShareNotFound

    async def open(self, token: str) -> SharedConversation:
        """The snapshot behind `token`; `ShareNotFound` if there is none, it was revoked or it expired."""
        if not _TOKEN.fullmatch(token):
            raise ShareNotFound
        shared = await self.shares.open(self._hash(token), utcnow())
        if shared is None:
            raise ShareNotFound
        return shared

    async def continue_in(self, token: str, viewer_id: str) -> str:
        """Copy the snapshot into a new conversation of the viewer's; its id. Counts as a new conversation against
        the viewer's limit (`TooManyConversations`); its files against their quota (`FileRefused`)."""
        if not _TOKEN.fullmatch(token):
            raise ShareNotFound
        if self.creations is not None and (wait := await self.creations.hit(viewer_id)):
            raise TooManyConversations(wait)
        try:
            copied = await self.shares.continue_share(
                self._hash(token), viewer_id, utcnow(), quota_bytes=self.quota_bytes
            )
        except QuotaExceeded as exc:
            raise FileRefused(
                FileProblem.QUOTA,
                f"This chat's files would take you past your {exc.quota // (1024 * 1024)} MB of storage.",
            ) from None
        if copied is None:
            raise ShareNotFound
        return copied
