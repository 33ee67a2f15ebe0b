"""One process: nothing is shared, nothing needs telling (the `Coordination` of every install without `REDIS_URL`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic

from chatui.coordination.base import InstanceHooks, R, RevocationKind
from chatui.coordination.reply import CancelReason
from chatui.coordination.sockets import SocketSlots
from chatui.coordination.throttles import AttemptLimiter, MemoryLimits
from storage import mark_interrupted

if TYPE_CHECKING:
    from sqlalchemy import Connection


class LocalCoordination(Generic[R]):
    """Every answer is this process's own; the limits count in its memory."""

    def __init__(self) -> None:
        self.limit_storage = MemoryLimits()

    def attempt_limiter(self) -> AttemptLimiter:
        return AttemptLimiter()

    def socket_slots(self, per_user: int, per_session: int) -> SocketSlots:
        return SocketSlots(per_user, per_session)

    def recover_at_start(self, connection: Connection) -> int:
        """Any reply still `streaming` was cut off by the last shutdown (no other process writes here): interrupted."""
        return mark_interrupted(connection)

    async def start(self, hooks: InstanceHooks[R]) -> None:
        """Nothing to start: no other instance will ever ask anything."""

    async def stop(self) -> None:
        return None

    async def reserve(self, conversation_id: str) -> bool:
        return True

    async def release(self, conversation_id: str) -> None:
        return None

    async def began(self, reply: R) -> None:
        return None

    def elsewhere(self, conversation_id: str) -> R | None:
        return None

    async def caught_up(self, reply: R) -> None:
        return None

    def request_stop(self, conversation_id: str, reason: CancelReason) -> None:
        return None

    def request_approve(self, conversation_id: str, user_id: str, call_id: str, allow: bool) -> None:
        return None

    async def revoked(self, kind: RevocationKind, identifier: str) -> None:
        return None
