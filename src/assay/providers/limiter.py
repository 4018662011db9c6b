"""An adaptive (AIMD) concurrency limiter per endpoint: back off on 429s, creep back up on success."""

from __future__ import annotations

import asyncio
from collections import deque


class AdaptiveLimiter:
    """A semaphore whose size follows AIMD.

    The limit starts at `max_limit`. A 429 multiplies it by `decrease_factor` (floor `min_limit`), at most once
    per "generation": 429s from requests admitted before the last decrease are ignored, so one burst of
    rejections counts once. Each success adds `1 / limit` (about +1 per window of `limit` successes).
    """

    __slots__ = (
        "max_limit",
        "min_limit",
        "decrease_factor",
        "limit",
        "in_flight",
        "_waiters",
        "_generation",
        "decreases",
    )

    def __init__(self, max_limit: int, *, min_limit: int = 1, decrease_factor: float = 0.5) -> None:
        self.max_limit = max(1, int(max_limit))
        self.min_limit = max(1, min(int(min_limit), self.max_limit))
        self.decrease_factor = decrease_factor
        self.limit = float(self.max_limit)
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._generation = 0
        self.decreases = 0

    @property
    def current_limit(self) -> int:
        """The whole number of slots available now."""
        return max(self.min_limit, int(self.limit))

    async def acquire(self) -> int:
        """Wait for a slot; returns the generation token to pass to `release`."""
        if self.in_flight < self.current_limit and not self._waiters:
            self.in_flight += 1
            return self._generation
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.in_flight -= 1
                self._wake()
            else:
                try:
                    self._waiters.remove(future)
                except ValueError:
                    pass
            raise
        return self._generation

    def release(self, generation: int, *, rate_limited: bool = False, success: bool = False) -> None:
        """Free the slot and adapt the limit from the outcome."""
        self.in_flight -= 1
        if rate_limited:
            if generation >= self._generation:
                self.limit = max(float(self.min_limit), self.limit * self.decrease_factor)
                self._generation += 1
                self.decreases += 1
        elif success and self.limit < self.max_limit:
            self.limit = min(float(self.max_limit), self.limit + 1.0 / self.limit)
        self._wake()

    def _wake(self) -> None:
        waiters = self._waiters
        while waiters and self.in_flight < self.current_limit:
            future = waiters.popleft()
            if not future.done():
                self.in_flight += 1
                future.set_result(None)
