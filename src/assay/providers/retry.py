"""The retry loop shared by model calls and instance calls: backoff delays, `Retry-After` parsing, slots."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Protocol, TypeVar, cast

from assay.providers.datatypes import RetryPolicy
from assay.providers.limiter import AdaptiveLimiter


class AttemptFailure(Protocol):
    """What the retry loop reads and writes on a failed attempt's exception (`ProviderError`, `InstanceError`)."""

    attempts: int

    @property
    def kind(self) -> str: ...

    @property
    def retry_after(self) -> float | None: ...


T = TypeVar("T")
F = TypeVar("F", bound=Exception)


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**(attempt-1))]."""
    ceiling = min(policy.max_delay, policy.base_delay * (2 ** max(attempt - 1, 0)))
    return (rng or random).uniform(0.0, ceiling)


def retry_delay(
    attempt: int, policy: RetryPolicy, retry_after: float | None, rng: random.Random | None = None
) -> float | None:
    """Seconds to sleep before the next attempt, or None when the server asks for longer than the policy allows.

    A `Retry-After` is honoured as a floor, plus up to 10 % jitter (at most a second) so requests that were
    refused together do not all come back at the same instant.
    """
    delay = backoff_delay(attempt, policy, rng)
    if retry_after is None:
        return delay
    if retry_after > policy.max_retry_after:
        return None
    spread = (rng or random).uniform(0.0, min(1.0, 0.1 * retry_after))
    return max(delay, retry_after + spread)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date); None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(seconds, 0.0)


def retry_after_from_headers(headers: object) -> float | None:
    """`retry-after-ms` or `retry-after` from a headers mapping, in seconds."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    millis = get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    return parse_retry_after(get("retry-after"))


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    limiter: AdaptiveLimiter,
    failure: type[F],
    retryable: Callable[[F], bool],
    before_attempt: Callable[[], Awaitable[None]] | None = None,
    rng: random.Random | None = None,
) -> tuple[T, int]:
    """Run `attempt` under a limiter slot until it succeeds, retrying `failure`s that are `retryable`.

    Returns the result and the number of attempts made; the last failure is raised with `attempts` set.
    Each attempt holds a slot only while it runs: the slot is released before the backoff sleep, so other
    requests go ahead meanwhile. A `rate_limit` failure tells the limiter to back off; a cancelled or
    otherwise unexpected exception frees the slot without counting as an outcome. `before_attempt` runs
    before each slot is taken (e.g. waiting for a rate budget).
    """
    attempts = 0
    while True:
        attempts += 1
        if before_attempt is not None:
            await before_attempt()
        generation = await limiter.acquire()
        try:
            result = await attempt()
        except failure as error:
            failed = cast(AttemptFailure, error)
            limiter.release(generation, rate_limited=failed.kind == "rate_limit")
            failed.attempts = attempts
            if not retryable(error) or attempts >= policy.max_attempts:
                raise
            delay = retry_delay(attempts, policy, failed.retry_after, rng)
            if delay is None:
                raise
        except BaseException:
            limiter.release(generation, record=False)
            raise
        else:
            limiter.release(generation, success=True)
            return result, attempts
        await asyncio.sleep(delay)
