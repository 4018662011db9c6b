"""Requests-per-minute and tokens-per-minute budgets per provider key (token buckets), per process or shared."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    """A token bucket refilled continuously at `rate_per_minute / 60` per second, holding at most `capacity`.

    `acquire(n)` waits until `n` tokens are available; waiters are served in order. `adjust(delta)` corrects a
    guess after the fact (it may drive the balance negative, delaying later callers).
    """

    __slots__ = ("rate", "capacity", "tokens", "_stamp", "_lock")

    def __init__(self, rate_per_minute: float, capacity: float | None = None) -> None:
        self.rate = rate_per_minute / 60.0
        self.capacity = capacity if capacity is not None else max(1.0, self.rate)
        self.tokens = self.capacity
        self._stamp = time.monotonic()
        self._lock: asyncio.Lock | None = None

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, amount: float = 1.0) -> None:
        """Take `amount` tokens, waiting if needed (an amount above capacity waits for a full bucket)."""
        amount = min(amount, self.capacity)
        self._refill()
        if self.tokens >= amount and (self._lock is None or not self._lock.locked()):
            self.tokens -= amount
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while True:
                self._refill()
                if self.tokens >= amount:
                    self.tokens -= amount
                    return
                await asyncio.sleep((amount - self.tokens) / self.rate)

    def adjust(self, delta: float) -> None:
        """Spend `delta` more tokens (or give back when negative)."""
        self._refill()
        self.tokens = min(self.capacity, self.tokens - delta)


class KeyBudget:
    """The RPM and TPM buckets of one provider key."""

    __slots__ = ("requests", "tokens")

    def __init__(self, rpm: float | None, tpm: float | None, *, rpm_burst: float | None = None) -> None:
        self.requests = TokenBucket(rpm, rpm_burst) if rpm else None
        self.tokens = TokenBucket(tpm, tpm / 60.0 * 5 if tpm else None) if tpm else None

    async def acquire(self, estimated_tokens: int) -> None:
        """Wait for one request slot and the estimated tokens."""
        if self.requests is not None:
            await self.requests.acquire(1.0)
        if self.tokens is not None:
            await self.tokens.acquire(float(estimated_tokens))

    def settle(self, estimated_tokens: int, actual_tokens: int) -> None:
        """Correct the token bucket with the usage the provider reported."""
        if self.tokens is not None and actual_tokens != estimated_tokens:
            self.tokens.adjust(float(actual_tokens - estimated_tokens))


POLL_SECONDS = 0.1
"""Longest wait between two draws from an empty shared bucket."""

Draw = Callable[[float], Awaitable[float]]
"""Takes up to the given number of tokens from a bucket shared with other processes; returns how many it got."""


class SharedBucket:
    """A local allowance drawn in small batches from a bucket shared by every process (e.g. a database row).

    `acquire(n)` spends the allowance and draws more (`batch` at a time, or what `n` needs) when it runs out;
    when the shared bucket is empty it waits for the refill at `rate_per_minute`. Callers are served in order.
    """

    __slots__ = ("rate", "capacity", "batch", "tokens", "_draw", "_lock")

    def __init__(self, draw: Draw, *, rate_per_minute: float, capacity: float, batch: float = 1.0) -> None:
        self.rate = rate_per_minute / 60.0
        self.capacity = capacity
        self.batch = max(0.0, min(batch, capacity))
        self.tokens = 0.0
        self._draw = draw
        self._lock: asyncio.Lock | None = None

    async def acquire(self, amount: float = 1.0) -> None:
        """Take `amount` tokens (at most the capacity), drawing from the shared bucket as needed."""
        amount = min(amount, self.capacity)
        if self.tokens >= amount and (self._lock is None or not self._lock.locked()):
            self.tokens -= amount
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while self.tokens < amount:
                self.tokens += await self._draw(max(self.batch, amount - self.tokens))
                if self.tokens < amount:  # others drew the refill: look again soon, not only when it would be full
                    await asyncio.sleep(max(0.005, min((amount - self.tokens) / self.rate, POLL_SECONDS)))
            self.tokens -= amount

    def adjust(self, delta: float) -> None:
        """Spend `delta` more tokens (a debt paid by the next draws), or give back when negative (kept locally)."""
        self.tokens = min(self.capacity, self.tokens - delta)


class SharedKeyBudget:
    """The RPM and TPM buckets of one provider key, shared by every process of the cluster."""

    __slots__ = ("requests", "tokens")

    def __init__(self, requests: SharedBucket | None, tokens: SharedBucket | None) -> None:
        self.requests = requests
        self.tokens = tokens

    async def acquire(self, estimated_tokens: int) -> None:
        """Wait for one request slot and the estimated tokens."""
        if self.requests is not None:
            await self.requests.acquire(1.0)
        if self.tokens is not None:
            await self.tokens.acquire(float(estimated_tokens))

    def settle(self, estimated_tokens: int, actual_tokens: int) -> None:
        """Correct the token allowance with the usage the provider reported."""
        if self.tokens is not None and actual_tokens != estimated_tokens:
            self.tokens.adjust(float(actual_tokens - estimated_tokens))
