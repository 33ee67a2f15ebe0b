"""What the instances of one chatui share: the seam between the engine (and sign-in) and "the other processes".

Two implementations, chosen once by the bootstrap (`REDIS_URL`), never branched on by a caller:

- `chatui.coordination.local.LocalCoordination`: one process, exactly as chatui always ran. A conversation is busy
  only while this process writes a reply in it, every reply is this process's own, a revocation has no one else to
  tell; each method is a no-op or the local answer, so the engine pays nothing for the seam.
- `chatui.coordination.redis.RedisCoordination`: several instances behind one load balancer. The busy guard, the
  replies streaming on other instances (followed through Redis Streams), Stop and Delete reaching the instance that
  owns a reply, revocations reaching every instance, the sweep that marks `interrupted` only the replies whose owner
  is gone, and every limit (throttles, sign-in attempts, socket caps) counted over all instances.

The engine calls, in a reply's life:

    reserve(conversation)          before anything is saved (False: a reply streams there on another instance)
    began(reply)                   once the messages are stored: announce it, stream it to the other instances
    release(conversation)          when a reserved conversation gets no reply after all (refused, failed start)
    elsewhere(conversation)        the reply streaming there on another instance, as a mirror to follow
    caught_up(reply)               before a late reader attaches to a mirror: what was written so far is in it
    request_stop(conversation, …)  Stop/Delete for a reply owned elsewhere
    request_approve(conversation, …)  Allow/Deny of a tool call waiting in a reply owned elsewhere (issue 24)

What this instance does when another one asks is given once, as `InstanceHooks`, when the coordination starts:
the engine and the sign-in service call the coordination and the coordination calls them, so one of the three must
meet the others after it is built; it is the coordination's listening half, which only exists once started.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from chatui.coordination.reply import CancelReason, Reply, ReplyMeta

if TYPE_CHECKING:
    from limits.aio.storage import Storage
    from sqlalchemy import Connection

    from chatui.coordination.sockets import SocketSlots
    from chatui.coordination.throttles import AttemptLimiter

R = TypeVar("R", bound=Reply)


class CoordinationUnavailable(Exception):
    """The shared store (Redis) cannot be reached; nothing was started."""


class RevocationKind(StrEnum):
    """What a revocation ended: one session (signed out), or every session of a user (password, disabled)."""

    SESSION = "session"
    USER = "user"


@dataclass(frozen=True, slots=True)
class InstanceHooks(Generic[R]):
    """What this instance does when another one asks (built by the bootstrap from the engine and the sign-in)."""

    mirror: Callable[[ReplyMeta], R]
    """A reply of this instance's own kind, to be filled from the stream of the instance that writes it."""
    announce: Callable[[R], None]
    """A reply started elsewhere: show it to this instance's pages and sockets on that conversation."""
    watched: Callable[[str], bool]
    """Whether a page or socket here follows this conversation."""
    stop: Callable[[str, CancelReason], None]
    """Stop (`stopped`) or drop (`deleted`) the reply this instance writes in the conversation."""
    approve: Callable[[str, str, str, bool], bool]
    """Allow / Deny (conversation, user, call id, allow) a tool call waiting in the reply this instance writes there,
    if it is that user's; False when no such call waits."""
    user_revoked: Callable[[str], None]
    """Every session of this user ended on another instance: close its pages and sockets here, stop its replies."""
    session_revoked: Callable[[str], None]
    """This session ended on another instance: close its pages and sockets here, stop the replies it started."""


class Coordination(Protocol[R]):
    """The seam; `R` is the engine's reply type, which mirrors are built as."""

    @property
    def limit_storage(self) -> Storage:
        """Where every rate limit (`chatui.coordination.throttles`) keeps its counts: seen by every instance."""
        ...

    def attempt_limiter(self) -> AttemptLimiter:
        """Reserves sign-in attempts under their limits, counting those in progress on every instance."""
        ...

    def socket_slots(self, per_user: int, per_session: int) -> SocketSlots:
        """The caps on open `/ws` sockets, counted over every instance."""
        ...

    def recover_at_start(self, connection: Connection) -> int:
        """Before serving, in the schema's transaction: settle the replies the database holds as `streaming`
        (one process: a crash cut them off; several: only the sweep can tell). Returns how many were marked."""
        ...

    async def start(self, hooks: InstanceHooks[R]) -> None:
        """Begin (for several instances: leases, the sweep, listening to the others, who are answered by `hooks`)."""
        ...

    async def stop(self) -> None:
        """End, after the engine has stored the end of every reply."""
        ...

    async def reserve(self, conversation_id: str) -> bool:
        """The conversation's busy guard; False when another instance writes a reply there. Raises
        `CoordinationUnavailable` when it cannot be checked."""
        ...

    async def release(self, conversation_id: str) -> None: ...

    async def began(self, reply: R) -> None: ...

    def elsewhere(self, conversation_id: str) -> R | None: ...

    async def caught_up(self, reply: R) -> None:
        """Before a late reader attaches to a reply written elsewhere: its text so far has been read into it."""
        ...

    def request_stop(self, conversation_id: str, reason: CancelReason) -> None: ...

    def request_approve(self, conversation_id: str, user_id: str, call_id: str, allow: bool) -> None: ...

    async def revoked(self, kind: RevocationKind, identifier: str) -> None:
        """A session or all of a user's were revoked here (and handled here): tell the other instances."""
        ...
