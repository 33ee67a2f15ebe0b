"""What the instances of one chatui share: the seam between the engine (and sign-in) and "the other processes".

`Coordination` itself is the single process, exactly as chatui always ran: a conversation is busy only while this
process writes a reply in it, every reply is this process's own, and a revocation has no one else to tell. Each
method is a no-op or the local answer, so the engine pays nothing for the seam.

`chatui.coordination.redis.RedisCoordination` (with `REDIS_URL`) is several instances behind one load balancer:
the busy guard, the replies streaming on other instances (followed through Redis Streams), Stop and Delete reaching
the instance that owns a reply, revocations reaching every instance, and the sweep that marks `interrupted` only the
replies whose owner is gone.

The engine calls, in a reply's life:

    reserve(conversation)          before anything is saved (False: a reply streams there on another instance)
    began(generation)              once the messages are stored: announce it, stream it to the other instances
    release(conversation)          when a reserved conversation gets no reply after all (refused, failed start)
    elsewhere(conversation)        the reply streaming there on another instance, as a Generation to follow
    caught_up(generation)          before a late reader attaches to it: what was written so far is in it
    request_stop(conversation, …)  Stop/Delete for a reply owned elsewhere
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chatui.coordination.sockets import SocketSlots

if TYPE_CHECKING:
    from chatui.engine.generation import Generation


class CoordinationUnavailable(Exception):
    """The shared store (Redis) cannot be reached; nothing was started."""


class Hosts:
    """What an instance does when another one asks (set up by `build_services`)."""

    def __init__(self) -> None:
        self.announce: Callable[[Generation], None] = lambda generation: None
        """A reply started elsewhere: show it to this instance's pages and sockets on that conversation."""
        self.watched: Callable[[str], bool] = lambda conversation_id: False
        """Whether a page or socket here follows this conversation."""
        self.stop: Callable[[str, str], None] = lambda conversation_id, reason: None
        """Stop (`stopped`) or drop (`deleted`) the reply this instance writes in the conversation."""
        self.user_revoked: Callable[[str], None] = lambda user_id: None
        self.session_revoked: Callable[[str], None] = lambda session_id: None


class Coordination:
    """One process: nothing is shared, nothing needs telling."""

    distributed = False

    def __init__(self) -> None:
        self.hosts = Hosts()

    async def start(self) -> None:
        """Begin (for several instances: leases, the sweep, listening to the others)."""

    async def stop(self) -> None:
        """End, after the engine has stored the end of every reply."""

    async def reserve(self, conversation_id: str) -> bool:
        return True

    async def release(self, conversation_id: str) -> None:
        return None

    async def began(self, generation: Generation) -> None:
        return None

    def elsewhere(self, conversation_id: str) -> Generation | None:
        return None

    async def caught_up(self, generation: Generation) -> None:
        """Before a late reader attaches to a reply written elsewhere: its text so far has been read into it."""
        return None

    def request_stop(self, conversation_id: str, reason: str) -> None:
        return None

    async def revoked(self, kind: str, identifier: str) -> None:
        """A session (`kind` "session") or all of a user's ("user") were revoked here: tell the other instances."""
        return None

    def socket_slots(self, per_user: int, per_session: int) -> SocketSlots:
        """The caps on open `/ws` sockets: this process's own count."""
        return SocketSlots(per_user, per_session)

    async def sweep(self) -> int:
        """Mark `interrupted` the replies left `streaming` by an instance that is gone; returns how many."""
        return 0
