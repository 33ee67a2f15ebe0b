"""Sign-in attempts in progress, counted over every instance, so that a burst of guesses spread over several
instances runs no more password checks than the limit (and a lockout on one is a lockout on all).

The failures themselves are the throttles' counts, already in Redis (`limits`). What the one-process
`AttemptLimiter` adds, the attempts still being checked, lives here: `attempts:<limit>:<key>` is a hash with a count
per instance, summed over the instances whose lease is alive (a killed instance's attempts stop counting when its
lease ends), and `attempts-ended:<limit>:<key>` counts the attempts that ended under that key.

A place is reserved without a lock. The room left in each window is read first (a library call, so not inside a
Lua script), then one script checks that no attempt under those keys ended meanwhile (`attempts-ended` unchanged)
and reserves only if the attempts in progress fit in that room. An attempt that ended in between may have moved
from "in progress" to "failed" with the room read before its failure was counted: the script then refuses the
stale reading and the room is read again. So failures plus attempts in progress never exceed a limit, as in one
process.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatui.coordination.redis.link import Link
from chatui.coordination.redis.wire import LIVE_COUNT
from chatui.coordination.throttles import AttemptLimiter, RateLimited, Throttle

STALE, REFUSED, RESERVED = -1, 0, 1
TRIES = 20
"""Readings refused as stale before giving up (each one means an attempt under the same key just ended)."""
KEEP_SECONDS = 86_400

RESERVE = (
    LIVE_COUNT
    + """
-- KEYS: n in-progress hashes, then their n ended counters; ARGV: instance, lease prefix, n ended counts, n rooms
local n = #KEYS / 2
for i = 1, n do
    if (redis.call('GET', KEYS[n + i]) or '0') ~= ARGV[2 + i] then return {-1} end
end
local answer, fits = {1}, true
for i = 1, n do
    local over = live(KEYS[i], ARGV[2]) + 1 > tonumber(ARGV[2 + n + i])
    answer[i + 1] = over and 1 or 0
    fits = fits and not over
end
if not fits then
    answer[1] = 0
    return answer
end
for i = 1, n do
    redis.call('HINCRBY', KEYS[i], ARGV[1], 1)
    redis.call('EXPIRE', KEYS[i], ARGV[3 + 2 * n])
end
return answer
"""
)

GIVE_BACK = """
-- KEYS: n in-progress hashes, then their n ended counters; ARGV: instance, seconds to keep
local n = #KEYS / 2
for i = 1, n do
    if redis.call('HINCRBY', KEYS[i], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[i], ARGV[1]) end
    redis.call('INCR', KEYS[n + i])
    redis.call('EXPIRE', KEYS[n + i], ARGV[2])
end
"""


class SharedAttemptLimiter(AttemptLimiter):
    def __init__(self, link: Link) -> None:
        super().__init__()
        self.link = link
        self._reserve = link.redis.register_script(RESERVE)
        self._give_back = link.redis.register_script(GIVE_BACK)

    def _keys(self, limits: Sequence[tuple[Throttle, str]]) -> tuple[list[str], list[str]]:
        keys = self.link.keys
        return (
            [keys.attempts(throttle.name, key) for throttle, key in limits],
            [keys.attempts_ended(throttle.name, key) for throttle, key in limits],
        )

    async def reserve(self, limits: Sequence[tuple[Throttle, str]]) -> None:
        in_progress, ended = self._keys(limits)
        for _ in range(TRIES):
            seen = [str(int(count or 0)) for count in await self.link.redis.mget(ended)]
            rooms = [await throttle.room(key) for throttle, key in limits]
            args: list[str | int] = [self.link.instance_id, self.link.keys.lease_prefix, *seen, *rooms, KEEP_SECONDS]
            status, *over = await self._reserve(keys=in_progress + ended, args=args)
            if status == RESERVED:
                return
            if status == REFUSED:
                waits = [await throttle.retry_after(key) for (throttle, key), o in zip(limits, over, strict=True) if o]
                raise RateLimited(max(waits))
        raise RateLimited(1.0)

    async def give_back(self, limits: Sequence[tuple[Throttle, str]]) -> None:
        in_progress, ended = self._keys(limits)
        await self._give_back(keys=in_progress + ended, args=[self.link.instance_id, KEEP_SECONDS])
