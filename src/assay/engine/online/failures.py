"""Logging online-evaluation failures without flooding the log: once per evaluation and cause, then counts.

A misconfigured evaluation (no judge, a Hog error, a provider that is down) fails on every event it matches;
one line per event would bury everything else. The first failure of an (evaluation, cause) pair is logged
with its reason; later ones are counted and summarised at most once per `interval` seconds. A pair quiet
for a whole interval is forgotten, so its next failure is logged in full again.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

SUMMARY_INTERVAL = 300.0
"""Seconds between two summary lines of one (evaluation, cause)."""


@dataclass(slots=True)
class _Entry:
    name: str
    reported_at: float
    count: int = 0
    last_message: str = ""


class FailureLog:
    """Deduplicates failure logs per `(evaluation, cause)`: the first in full, then periodic counts."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = SUMMARY_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._entries: dict[tuple[uuid.UUID, str], _Entry] = {}

    def record(self, *, evaluation_id: uuid.UUID, name: str, cause: str, message: str, detail: str = "") -> None:
        """Note one failure; logs it when it is the first of its kind in this interval."""
        key = (evaluation_id, cause)
        entry = self._entries.get(key)
        if entry is not None:
            entry.count += 1
            entry.last_message = message
            return
        self._entries[key] = _Entry(name=name, reported_at=self._clock())
        reason = message if message.startswith(cause) else f"{cause}: {message}"
        self._logger.warning(
            "Online evaluation %r (%s): %s%s. Further %s failures of this evaluation are counted "
            "and summarised every %d s.",
            name,
            evaluation_id,
            reason,
            f" ({detail})" if detail else "",
            cause,
            self._interval,
        )

    def flush(self, *, force: bool = False) -> None:
        """Log the counts of pairs whose interval has passed (all of them with `force`); forget quiet pairs."""
        now = self._clock()
        for key, entry in list(self._entries.items()):
            if not force and now - entry.reported_at < self._interval:
                continue
            if entry.count == 0:
                del self._entries[key]
                continue
            evaluation_id, cause = key
            self._logger.warning(
                "Online evaluation %r (%s): %d more %s failures in the last %d s; the latest: %s",
                entry.name,
                evaluation_id,
                entry.count,
                cause,
                now - entry.reported_at,
                entry.last_message,
            )
            entry.count = 0
            entry.reported_at = now
