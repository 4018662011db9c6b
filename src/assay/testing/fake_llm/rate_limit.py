"""The fake server's own RPM and TPM limits: token buckets that answer 429 once they are empty."""

from __future__ import annotations

import time


class RequestRateLimit:
    """`per_minute` units (requests, or tokens), `burst_s` seconds of them at most at once.

    `admit(cost)` says whether a request costing `cost` may pass, and takes it from the bucket; `charge`
    takes more afterwards (a response's completion tokens), which may leave the bucket in debt."""

    def __init__(self, per_minute: float, burst_s: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_s)
        self.tokens = self.capacity
        self._stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def admit(self, cost: float = 1.0) -> bool:
        """Take `cost` from the bucket; False (answer 429) when it holds less (a cost above the capacity needs
        a full bucket)."""
        self._refill()
        if self.tokens >= min(cost, self.capacity):
            self.tokens -= cost
            return True
        return False

    def charge(self, cost: float) -> None:
        """Take `cost` more, after the request was admitted."""
        self._refill()
        self.tokens -= cost

    def retry_after(self, cost: float = 1.0) -> float:
        """Seconds until a request costing `cost` would pass."""
        return max(0.0, (min(cost, self.capacity) - self.tokens) / self.rate)
