"""The fake server's own RPM limit: a token bucket that answers 429 once it is empty."""

from __future__ import annotations

import time


class RequestRateLimit:
    """`per_minute` requests, `burst_s` seconds of them at most at once; `admit()` says whether one may pass."""

    def __init__(self, per_minute: float, burst_s: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_s)
        self.tokens = self.capacity
        self._stamp = time.monotonic()

    def admit(self) -> bool:
        """Take one request from the bucket; False (answer 429) when it is empty."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def retry_after(self) -> float:
        """Seconds until the next request would pass."""
        return max(0.0, (1.0 - self.tokens) / self.rate)
