"""Backoff delays and `Retry-After` parsing."""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime

from assay.providers.datatypes import RetryPolicy


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
