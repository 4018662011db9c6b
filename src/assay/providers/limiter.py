"""An adaptive concurrency limiter per endpoint: back off on sustained 429s only, and recover quickly."""

from __future__ import annotations

import asyncio
import math
from collections import deque


class AdaptiveLimiter:
    """A semaphore whose size adapts to rate limiting, decided once per window of finished requests.

    The limit starts at `max_limit`. Outcomes are tallied in windows of `max(min_window, limit)` requests:

    - when at least `threshold` of a window's requests were rate limited (429), the limit is multiplied by
      `decrease_factor` (floor `min_limit`) as soon as that share is reached, and a new window starts;
      outcomes of requests admitted before the decrease are not counted, so one burst of 429s counts once;
    - a window that ends with under half that share of 429s and at least one success closes half the gap to
      `max_limit` (at least `increase_step`), so even a limit at the floor is back within a few windows;
    - anything else holds the limit.

    Server errors, timeouts and unreadable answers are neither success nor rate limit: they only fill the
    window, so random failures never shrink the pool, and scattered 429s (a minority of the window) do not
    either: the request that got one waits out its `Retry-After` on its own, without a slot.
    """

    __slots__ = (
        "max_limit",
        "min_limit",
        "decrease_factor",
        "threshold",
        "min_window",
        "increase_step",
        "limit",
        "in_flight",
        "decreases",
        "increases",
        "finished",
        "_waiters",
        "_generation",
        "_window_size",
        "_seen",
        "_limited",
        "_succeeded",
    )

    def __init__(
        self,
        max_limit: int,
        *,
        min_limit: int = 1,
        decrease_factor: float = 0.5,
        threshold: float = 0.5,
        min_window: int = 20,
        increase_step: float = 1.0,
    ) -> None:
        self.max_limit = max(1, int(max_limit))
        self.min_limit = max(1, min(int(min_limit), self.max_limit))
        self.decrease_factor = decrease_factor
        self.threshold = threshold
        self.min_window = max(1, int(min_window))
        self.increase_step = increase_step
        self.limit = float(self.max_limit)
        self.in_flight = 0
        self.decreases = 0
        self.increases = 0
        self.finished = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._generation = 0
        self._new_window()

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

    def release(
        self, generation: int, *, rate_limited: bool = False, success: bool = False, record: bool = True
    ) -> None:
        """Free the slot and count the outcome (`record=False` for a cancelled request: it says nothing)."""
        self.in_flight -= 1
        self.finished += 1
        if record and generation == self._generation:
            self._record(rate_limited=rate_limited, success=success)
        self._wake()

    def _new_window(self) -> None:
        self._window_size = max(self.min_window, self.current_limit)
        self._seen = 0
        self._limited = 0
        self._succeeded = 0

    def _record(self, *, rate_limited: bool, success: bool) -> None:
        self._seen += 1
        self._limited += rate_limited
        self._succeeded += success
        if self._limited >= math.ceil(self.threshold * self._window_size):
            if self.limit > self.min_limit:
                self.limit = max(float(self.min_limit), self.limit * self.decrease_factor)
                self.decreases += 1
            self._generation += 1
            self._new_window()
        elif self._seen >= self._window_size:
            if self._succeeded and self._limited < self.threshold / 2 * self._seen and self.limit < self.max_limit:
                step = max(self.increase_step, (self.max_limit - self.limit) / 2)
                self.limit = min(float(self.max_limit), self.limit + step)
                self.increases += 1
            self._new_window()

    def _wake(self) -> None:
        waiters = self._waiters
        while waiters and self.in_flight < self.current_limit:
            future = waiters.popleft()
            if not future.done():
                self.in_flight += 1
                future.set_result(None)
