"""How many answers, and how many bytes of them, the proxy holds at once.

An answer is held from its first body byte until it has been judged: read in full (it must be,
to be judged), then judged before it is sent (enforce) or after (observe). Without a bound, six
parallel 64 MiB answers held six times 64 MiB plus what judging them costs. Bytes are reserved as
they arrive, so an answer waits (the upstream with it, by TCP backpressure) when the budget is
spent. Reserving bit by bit could deadlock — two half-read answers each waiting for the other's
bytes — so the oldest holder may always grow: it finishes, leaves, and the next oldest may grow.
The bound is therefore ``max_bytes`` plus one answer (at most the response cap), ``max_count``
answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Budget:
    """Answers held at once, in count and bytes; one event loop, no threads."""

    def __init__(self, max_count: int, max_bytes: int) -> None:
        self.max_count = max_count
        self.max_bytes = max_bytes
        self._held: dict[int, int] = {}  # ticket → bytes, oldest first (dicts keep insertion order)
        self._bytes = 0
        self._waiters: list[asyncio.Future[None]] = []  # woken whenever an answer leaves
        self.peak_count = 0
        self.peak_bytes = 0

    @property
    def count(self) -> int:
        """Answers held now."""
        return len(self._held)

    @property
    def held_bytes(self) -> int:
        """Bytes held now."""
        return self._bytes

    def _may_enter(self, size: int) -> bool:
        return not self._held or (len(self._held) < self.max_count and self._bytes + size <= self.max_bytes)

    def _may_grow(self, ticket: int, size: int) -> bool:
        return next(iter(self._held)) == ticket or self._bytes + size <= self.max_bytes

    def try_enter(self, ticket: int, size: int) -> bool:
        """Hold ``size`` bytes for a new answer if that needs no wait (a lone answer always fits)."""
        if self._may_enter(size):
            self._add(ticket, size, new=True)
            return True
        return False

    def try_grow(self, ticket: int, size: int) -> bool:
        """Hold ``size`` more bytes for a held answer if that needs no wait."""
        if self._may_grow(ticket, size):
            self._add(ticket, size, new=False)
            return True
        return False

    async def enter(self, ticket: int, size: int) -> float:
        """Hold ``size`` bytes for a new answer, waiting for room; the seconds waited."""
        if self.try_enter(ticket, size):
            return 0.0
        return await self._wait(lambda: self._may_enter(size), ticket, size, new=True)

    async def grow(self, ticket: int, size: int) -> float:
        """Hold ``size`` more bytes for a held answer, waiting for room; the seconds waited."""
        if self.try_grow(ticket, size):
            return 0.0
        return await self._wait(lambda: self._may_grow(ticket, size), ticket, size, new=False)

    def leave(self, ticket: int) -> None:
        """Release everything the answer held (safe to call twice, or for an answer never held)."""
        size = self._held.pop(ticket, None)
        if size is None:
            return
        self._bytes -= size
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:  # each re-checks whether it may go on now
            if not waiter.done():
                waiter.set_result(None)

    async def _wait(self, ready: Callable[[], bool], ticket: int, size: int, *, new: bool) -> float:
        started = time.perf_counter()
        while not ready():
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self._add(ticket, size, new=new)
        return time.perf_counter() - started

    def _add(self, ticket: int, size: int, *, new: bool) -> None:
        self._held[ticket] = (0 if new else self._held[ticket]) + size
        self._bytes += size
        self.peak_count = max(self.peak_count, len(self._held))
        self.peak_bytes = max(self.peak_bytes, self._bytes)
