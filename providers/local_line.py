"""The line replies wait in for the local model: `places` of them decode together (batched by llama.cpp), the rest
wait first come, first served, and each is told its place whenever the line moves (the engine shows it as "waiting,
n-th in line"). Apart from the provider so that the order rules can be read, and tested, without a model."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class Line:
    """Replies waiting for one of `places` turns with the model, first come first served.

    Everything runs on the event loop; each waiter is told its place whenever the line moves.
    """

    def __init__(self, places: int) -> None:
        self.free = places
        self.waiting: deque[Ticket] = deque()

    def join(self) -> Ticket:
        ticket = Ticket(self)
        if self.free and not self.waiting:
            self.free -= 1
            ticket.admitted = True
        else:
            self.waiting.append(ticket)
        return ticket

    def release(self) -> None:
        """A running reply ended (its worker thread returned): let the next one in."""
        self.free += 1
        self._move()

    def leave(self, ticket: Ticket) -> None:
        """A waiting reply was stopped before its turn."""
        with contextlib.suppress(ValueError):
            self.waiting.remove(ticket)
            self._move()

    def _move(self) -> None:
        while self.free and self.waiting:
            ticket = self.waiting.popleft()
            ticket.admitted = True
            self.free -= 1
            ticket.wake()
        for ticket in self.waiting:
            ticket.wake()


class Ticket:
    def __init__(self, line: Line) -> None:
        self.line = line
        self.admitted = False
        self._moved: asyncio.Event | None = None

    @property
    def position(self) -> int:
        """1 = next in line; 0 once admitted."""
        return 0 if self.admitted else self.line.waiting.index(self) + 1

    def wake(self) -> None:
        if self._moved is not None:
            self._moved.set()

    async def moved(self) -> None:
        self._moved = asyncio.Event()
        await self._moved.wait()
