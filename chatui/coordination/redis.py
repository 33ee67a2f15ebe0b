"""Several chatui instances on one database, coordinated through Redis (`REDIS_URL`).

Keys, all under `CHATUI_REDIS_PREFIX` (default `chatui:`):

    instance:<id>        this instance's lease: set for one lease period, renewed every third of it
    busy:<conversation>  the conversation's busy guard (SET NX), held by the instance writing a reply there
    replies              hash: reply id -> who owns it and what a follower needs (conversation, user, model, ...)
    reply:<id>           a Redis Stream of the reply's text: entries {i: index of the first delta, t: JSON list of
                         deltas}, then one {end: status, error, usage}; expires a minute after the end
    wake:<id>            wakes this instance's stream reader when it starts following another reply
    events               pub/sub: started, ended, stop, revoke_user, revoke_session
    limits...            the `limits` library's counters (message and sign-in throttles)

**Following a reply owned elsewhere.** The owner is one more follower of its own reply: a task per reply follows
the in-memory `Generation` and queues each batch of deltas; one flusher writes every queued batch of every reply in
one pipelined round trip, so a busy instance writes bigger batches rather than more commands. Another instance
builds a mirror `Generation` and fills it from the stream, read from its first entry: replay and live come from the
same ordered log, indexed by delta, so the mirror's `follow()` has no gap and no duplicate, exactly as the owner's.
One reader task per instance reads every stream it follows with one blocking XREAD.

**Ownership.** A reply is owned by the instance that writes it, recorded in `replies` and re-asserted at every lease
renewal. The sweep (at start and every lease period) lists the replies the database holds as `streaming` and marks
`interrupted` those whose owner's lease is gone — at once — or that no instance owns, when seen so in two sweeps in
a row and older than two lease periods (an owner re-asserts within a third of a period, e.g. after Redis restarted).
A killed instance's replies are therefore marked within about two lease periods; another live instance's never.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic

import orjson
import redis.asyncio as redis
from limits.aio.storage import RedisStorage
from redis.exceptions import RedisError

from chatui.coordination.base import CoordinationUnavailable, InstanceHooks, R, RevocationKind
from chatui.coordination.reply import CancelReason, ReplyMeta
from chatui.coordination.sockets import SocketSlots
from chatui.coordination.throttles import AttemptLimiter
from providers import Usage
from storage import INTERRUPTED_NOTE
from storage.models import MessageStatus, new_id, utcnow
from storage.orphans import StreamingReplies

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger(__name__)

KEEP_ENDED_SECONDS = 60
"""How long a finished reply's stream stays readable (a follower that attached just before the end)."""
STREAM_MAX_ENTRIES = 20_000
"""Bound on one reply's stream; deltas are written in batches, so this is far more than any reply needs."""
READ_BLOCK_MS = 2_000
POOL_SIZE = 32
POOL_WAIT_SECONDS = 10

TAKE_SOCKET = """
local function live(key)
    local total, fields = 0, redis.call('HGETALL', key)
    for i = 1, #fields, 2 do
        if redis.call('EXISTS', ARGV[4] .. fields[i]) == 1 then
            total = total + tonumber(fields[i + 1])
        else
            redis.call('HDEL', key, fields[i])
        end
    end
    return total
end
if live(KEYS[1]) >= tonumber(ARGV[2]) or live(KEYS[2]) >= tonumber(ARGV[3]) then return 0 end
for _, key in ipairs(KEYS) do
    redis.call('HINCRBY', key, ARGV[1], 1)
    redis.call('EXPIRE', key, 86400)
end
return 1
"""
"""Take a socket slot under both caps, counting every instance whose lease is alive (a dead one's count is dropped)."""

GIVE_SOCKET = """
for _, key in ipairs(KEYS) do
    if redis.call('HINCRBY', key, ARGV[1], -1) <= 0 then redis.call('HDEL', key, ARGV[1]) end
end
"""

RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def connection_pool(url: str) -> redis.BlockingConnectionPool:
    """Connections to Redis for one instance: a burst of 200 messages waits for one of these, rather than opening 200
    (redis-py's plain pool refuses past its maximum: "Too many connections")."""
    return redis.BlockingConnectionPool.from_url(url, max_connections=POOL_SIZE, timeout=POOL_WAIT_SECONDS)


class RedisCoordination(Generic[R]):
    def __init__(self, url: str, prefix: str, lease_seconds: float, replies: StreamingReplies) -> None:
        self._pool = connection_pool(url)
        self.redis = redis.Redis(connection_pool=self._pool)
        self.limit_storage = RedisStorage(
            f"async+{url}", implementation="redispy", key_prefix=f"{prefix}limits", connection_pool=self._pool
        )
        # The stream reader blocks in XREAD for up to READ_BLOCK_MS: on its own connection, with no read timeout.
        self._blocking = redis.Redis.from_url(url, socket_timeout=None, single_connection_client=True)
        self.prefix = prefix
        self.lease = lease_seconds
        self.replies = replies
        self.instance_id = new_id()
        self._release = self.redis.register_script(RELEASE)
        self._take_socket = self.redis.register_script(TAKE_SOCKET)
        self._give_socket = self.redis.register_script(GIVE_SOCKET)
        self._hooks: InstanceHooks[R] | None = None
        self._owned: dict[str, R] = {}  # reply id -> this instance's replies
        self._pending: dict[str, tuple[int, list[str]]] = {}  # reply id -> (first index, deltas) not yet written
        self._ending: dict[str, R] = {}
        self._dirty = asyncio.Event()
        self._elsewhere: dict[str, dict[str, Any]] = {}  # conversation -> the reply another instance writes there
        self._mirrors: dict[str, R] = {}  # conversation -> mirror followed here
        self._reading: dict[bytes, tuple[R, bytes]] = {}  # stream key -> (mirror, last entry read)
        self._suspects: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._pubsub: Any = None

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    # -- life cycle ---------------------------------------------------------------------------------------------

    @property
    def hooks(self) -> InstanceHooks[R]:
        if self._hooks is None:
            raise RuntimeError("the coordination has not started")
        return self._hooks

    def attempt_limiter(self) -> AttemptLimiter:
        return AttemptLimiter()

    def recover_at_start(self, connection: Connection) -> int:
        """Other instances may be writing the replies the database holds as `streaming`: the sweep decides."""
        return 0

    async def start(self, hooks: InstanceHooks[R]) -> None:
        self._hooks = hooks
        await self._renew()
        self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self.key("events"))
        for raw in (await self.redis.hgetall(self.key("replies"))).values():  # replies that began before we did
            meta = orjson.loads(raw)
            if meta["owner"] != self.instance_id:
                self._elsewhere[meta["conversation_id"]] = meta
        self._loops = [
            asyncio.create_task(loop(), name=f"chatui-coordination-{loop.__name__}")
            for loop in (self._listen, self._read, self._flush_loop, self._renew_loop, self._sweep_loop)
        ]

    async def stop(self) -> None:
        """After the engine stored the end of every reply: write those ends, give the lease back, disconnect."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        with contextlib.suppress(RedisError):
            await self._flush()
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        with contextlib.suppress(RedisError):
            await self.redis.delete(self.key("instance", self.instance_id))
        if self._pubsub is not None:
            with contextlib.suppress(RedisError):
                await self._pubsub.aclose()
        await self.redis.aclose()
        await self._blocking.aclose()
        await self._pool.disconnect()

    # -- the busy guard -----------------------------------------------------------------------------------------

    async def reserve(self, conversation_id: str) -> bool:
        try:
            return bool(
                await self.redis.set(
                    self.key("busy", conversation_id), self.instance_id, nx=True, px=int(self.lease * 3000)
                )
            )
        except RedisError as exc:
            raise CoordinationUnavailable(str(exc)) from exc

    async def release(self, conversation_id: str) -> None:
        with contextlib.suppress(RedisError):
            await self._release(keys=[self.key("busy", conversation_id)], args=[self.instance_id])

    # -- replies this instance writes ---------------------------------------------------------------------------

    async def began(self, generation: R) -> None:
        meta = self._meta(generation)
        self._owned[generation.message_id] = generation
        self._spawn(self._stream_out(generation))
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(self.key("replies"), generation.message_id, orjson.dumps(meta))
                pipe.publish(self.key("events"), orjson.dumps({"kind": "started", **meta}))
                await pipe.execute()
        except RedisError:  # the reply goes on here; the lease renewal records its ownership once Redis answers
            log.exception("could not announce reply %s to the other instances", generation.message_id)

    def _meta(self, generation: R) -> dict[str, Any]:
        return {
            "owner": self.instance_id,
            "origin": self.instance_id,
            "message_id": generation.message_id,
            "conversation_id": generation.conversation_id,
            "user_id": generation.user_id,
            "session_id": generation.session_id,
            "parent_id": generation.parent_id,
            "user_message_id": generation.user_message_id,
            "user_content": generation.user_content,
            "user_parent_id": generation.user_parent_id,
            "model": generation.model,
        }

    async def _stream_out(self, generation: R) -> None:
        """Queue the reply's deltas as they come, then its end, for the flusher."""
        index = 0
        async for batch in generation.follow():
            if not batch:  # its place in the local model's line: shown by this instance's readers only
                continue
            queued = self._pending.get(generation.message_id)
            if queued is None:
                self._pending[generation.message_id] = (index, list(batch))
            else:
                queued[1].extend(batch)
            index += len(batch)
            self._dirty.set()
        self._ending[generation.message_id] = generation
        self._dirty.set()

    async def _flush_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self._flush()
            except RedisError:
                log.exception("could not write replies to Redis; followers on other instances fall behind")

    async def _flush(self) -> None:
        """Every queued batch, then every reply's end, in one pipelined round trip."""
        pending, self._pending = self._pending, {}
        ending, self._ending = self._ending, {}
        if not pending and not ending:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for message_id, (index, deltas) in pending.items():
                pipe.xadd(
                    self.key("reply", message_id),
                    {"i": index, "t": orjson.dumps(deltas)},
                    maxlen=STREAM_MAX_ENTRIES,
                    approximate=True,
                )
            for message_id, generation in ending.items():
                self._owned.pop(message_id, None)
                usage = generation.usage
                await self._end(
                    pipe,
                    message_id,
                    generation.conversation_id,
                    self.instance_id,
                    {
                        "status": generation.status,
                        "error": generation.error,
                        "code": generation.error_code,
                        "usage": [usage.prompt_tokens, usage.completion_tokens] if usage else None,
                    },
                )
            await pipe.execute()

    async def _end(self, pipe: Any, message_id: str, conversation_id: str, owner: str, end: dict[str, Any]) -> None:
        # The conversation is free before any reader learns that the reply ended, so its next message is accepted.
        pipe.hdel(self.key("replies"), message_id)
        await self._release(keys=[self.key("busy", conversation_id)], args=[owner], client=pipe)
        stream = self.key("reply", message_id)
        pipe.xadd(stream, {"end": orjson.dumps(end)})
        pipe.expire(stream, KEEP_ENDED_SECONDS)
        event = {"kind": "ended", "origin": self.instance_id, "message_id": message_id}
        pipe.publish(self.key("events"), orjson.dumps({**event, "conversation_id": conversation_id}))

    # -- replies other instances write --------------------------------------------------------------------------

    def elsewhere(self, conversation_id: str) -> R | None:
        mirror = self._mirrors.get(conversation_id)
        if mirror is not None:
            return mirror
        meta = self._elsewhere.get(conversation_id)
        return self._mirror(meta) if meta is not None else None

    def _mirror(self, meta: dict[str, Any]) -> R:
        """A reply filled from the owner's stream, from its first delta on."""
        fields = {name: meta.get(name) for name in ReplyMeta.__dataclass_fields__}
        mirror = self.hooks.mirror(ReplyMeta(**fields))
        self._mirrors[mirror.conversation_id] = mirror
        self._reading[self.key("reply", mirror.message_id).encode()] = (mirror, b"0-0")
        self._spawn(self._wake_reader())
        return mirror

    async def _wake_reader(self) -> None:
        wake = self.key("wake", self.instance_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xadd(wake, {"w": 1}, maxlen=10, approximate=True)
            pipe.expire(wake, 60)
            await pipe.execute()

    async def _read(self) -> None:
        """The one reader of every stream this instance follows (and of its wake-up stream)."""
        wake = self.key("wake", self.instance_id).encode()
        while True:
            streams: dict[Any, Any] = {wake: b"$", **{key: last for key, (_, last) in self._reading.items()}}
            try:
                answer = await self._blocking.xread(streams, block=READ_BLOCK_MS)
            except RedisError:
                log.exception("reading replies from Redis failed; trying again")
                await asyncio.sleep(self.lease / 3)
                continue
            for key, entries in answer or []:
                if key != wake:
                    self._apply(key, entries)

    async def caught_up(self, generation: R) -> None:
        """Read the mirror's stream so far at once, so a late reader's replay holds all of it (not only the tail)."""
        key = self.key("reply", generation.message_id).encode()
        if key in self._reading and self._mirrors.get(generation.conversation_id) is generation:
            self._apply(key, await self.redis.xrange(key))

    def _apply(self, key: bytes, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        """Entries of a followed stream; those already applied (by the reader or `caught_up`) are skipped."""
        if key not in self._reading:
            return
        mirror, last = self._reading[key]
        for entry_id, fields in entries:
            if _entry_order(entry_id) <= _entry_order(last):
                continue
            last = entry_id
            if b"t" in fields:
                first = int(fields[b"i"])
                deltas = orjson.loads(fields[b"t"])
                if first > len(mirror.chunks):
                    log.warning(
                        "reply %s: stream starts at delta %d, after the %d read", key, first, len(mirror.chunks)
                    )
                for text in deltas[max(0, len(mirror.chunks) - first) :]:
                    mirror.publish(text)
            elif b"end" in fields:
                end = orjson.loads(fields[b"end"])
                if end.get("usage"):
                    mirror.usage = Usage(prompt_tokens=end["usage"][0], completion_tokens=end["usage"][1])
                self._forget(key, mirror)
                mirror.finish(end["status"], end.get("error"), end.get("code"))
                return
        self._reading[key] = (mirror, last)

    def _forget(self, key: bytes, mirror: R) -> None:
        self._reading.pop(key, None)
        if self._mirrors.get(mirror.conversation_id) is mirror:
            del self._mirrors[mirror.conversation_id]
        meta = self._elsewhere.get(mirror.conversation_id)
        if meta is not None and meta["message_id"] == mirror.message_id:
            del self._elsewhere[mirror.conversation_id]

    def request_stop(self, conversation_id: str, reason: CancelReason) -> None:
        event = {"kind": "stop", "origin": self.instance_id, "conversation_id": conversation_id, "reason": reason}
        self._spawn(self._publish(event))

    async def revoked(self, kind: RevocationKind, identifier: str) -> None:
        await self._publish({"kind": f"revoke_{kind}", "origin": self.instance_id, "id": identifier})

    async def _publish(self, event: dict[str, Any]) -> None:
        try:
            await self.redis.publish(self.key("events"), orjson.dumps(event))
        except RedisError:
            log.exception("could not tell the other instances: %s", event["kind"])

    async def _listen(self) -> None:
        while True:
            try:
                async for message in self._pubsub.listen():
                    if message["type"] == "message":
                        self._on_event(orjson.loads(message["data"]))
            except RedisError:
                log.exception("listening to the other instances failed; listening again")
                await asyncio.sleep(self.lease / 3)

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("origin") == self.instance_id:
            return
        kind = event["kind"]
        try:
            if kind == "started":
                self._elsewhere[event["conversation_id"]] = event
                if self.hooks.watched(event["conversation_id"]):
                    mirror = self.elsewhere(event["conversation_id"])
                    if mirror is not None:
                        self.hooks.announce(mirror)
            elif kind == "ended":
                meta = self._elsewhere.get(event["conversation_id"])
                if (
                    meta is not None
                    and meta["message_id"] == event["message_id"]
                    and (event["conversation_id"] not in self._mirrors)
                ):
                    del self._elsewhere[event["conversation_id"]]
            elif kind == "stop":
                self.hooks.stop(event["conversation_id"], CancelReason(event["reason"]))
            elif kind == "revoke_user":
                self.hooks.user_revoked(event["id"])
            elif kind == "revoke_session":
                self.hooks.session_revoked(event["id"])
        except Exception:
            log.exception("handling %s from another instance failed", kind)

    # -- socket caps -------------------------------------------------------------------------------------------

    def socket_slots(self, per_user: int, per_session: int) -> SocketSlots:
        return SharedSocketSlots(self, per_user, per_session)

    async def take_socket(self, user_id: str, session_id: str, per_user: int, per_session: int) -> bool:
        keys = [self.key("sockets", "user", user_id), self.key("sockets", "session", session_id)]
        args = [self.instance_id, per_user, per_session, self.key("instance", "")]
        return bool(await self._take_socket(keys=keys, args=args))

    def give_socket(self, user_id: str, session_id: str) -> None:
        keys = [self.key("sockets", "user", user_id), self.key("sockets", "session", session_id)]
        self._spawn(self._give_socket(keys=keys, args=[self.instance_id]))

    # -- leases and the sweep -----------------------------------------------------------------------------------

    async def _renew(self) -> None:
        """The lease, the busy guards of this instance's replies, and its ownership of them, for another period."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self.key("instance", self.instance_id), b"1", px=int(self.lease * 1000))
            for generation in list(self._owned.values()):
                pipe.pexpire(self.key("busy", generation.conversation_id), int(self.lease * 3000))
                pipe.hset(self.key("replies"), generation.message_id, orjson.dumps(self._meta(generation)))
            await pipe.execute()

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await self._renew()
            except RedisError:
                log.exception("could not renew this instance's lease")

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("the sweep of interrupted replies failed; will try again")
            await asyncio.sleep(self.lease)

    async def sweep(self) -> int:
        streaming = await self.replies.all()
        if not streaming:
            self._suspects.clear()
            return 0
        ids = [message_id for message_id, _ in streaming]
        metas = [orjson.loads(raw) if raw else None for raw in await self.redis.hmget(self.key("replies"), ids)]
        owners = sorted({meta["owner"] for meta in metas if meta} - {self.instance_id})
        async with self.redis.pipeline(transaction=False) as pipe:
            for owner in owners:
                pipe.exists(self.key("instance", owner))
            alive = {owner for owner, found in zip(owners, await pipe.execute(), strict=True) if found}
        alive.add(self.instance_id)
        old = utcnow() - timedelta(seconds=2 * self.lease)
        orphans: list[tuple[str, dict[str, Any] | None]] = []
        suspects = set()
        for (message_id, created_at), meta in zip(streaming, metas, strict=True):
            if meta is not None:
                if meta["owner"] not in alive:
                    orphans.append((message_id, meta))
            elif created_at < old:
                if message_id in self._suspects:
                    orphans.append((message_id, None))
                else:
                    suspects.add(message_id)
        self._suspects = suspects
        if not orphans:
            return 0
        marked = await self.replies.interrupt([message_id for message_id, _ in orphans])
        log.warning("%d replies of instances that are gone were marked 'interrupted'", marked)
        async with self.redis.pipeline(transaction=False) as pipe:
            for message_id, meta in orphans:
                if meta is not None:
                    end = {"status": MessageStatus.INTERRUPTED, "error": INTERRUPTED_NOTE, "code": None, "usage": None}
                    await self._end(pipe, message_id, meta["conversation_id"], meta["owner"], end)
            await pipe.execute()
        return marked

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class SharedSocketSlots(SocketSlots):
    """The socket caps counted over every instance (each instance's count in a Redis hash, dropped with its lease)."""

    def __init__(self, coordination: RedisCoordination, per_user: int, per_session: int) -> None:
        super().__init__(per_user, per_session)
        self.coordination = coordination

    async def acquire(self, user_id: str, session_id: str) -> Callable[[], None] | None:
        try:
            taken = await self.coordination.take_socket(user_id, session_id, self.per_user, self.per_session)
        except RedisError:
            log.exception("the shared socket caps could not be checked; counting this instance's sockets only")
            return self.take(user_id, session_id)
        if not taken:
            return None
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.coordination.give_socket(user_id, session_id)

        return release


def _entry_order(entry_id: bytes) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition(b"-")
    return int(milliseconds), int(sequence or 0)
