"""Ingesting a decoded batch: normalise each event, refuse what cannot be stored, bulk-insert the rest.

Used by the capture endpoints (project token) and `POST /api/environments/{id}/events` (API key). Each event
keeps one shape from normalising to the insert, and its properties are encoded as JSON once (while its size
is measured); the storable check and the SQLite insert reuse that encoding. Nothing is evaluated here: the
online scheduler follows the events table on its own (`notify` wakes it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from assay.domain.events import NormalizedEvent
from assay.domain.storable import STORABLE_MAX_DEPTH, storable_problem
from assay.ingest.events import normalize_batch
from assay.storage.db import Session, write_lock
from assay.storage.events import insert_events
from assay.storage.types import utcnow


@dataclass(slots=True)
class IngestOutcome:
    """What happened to a batch: valid events, how many were new, and per-event rejections and warnings."""

    accepted: int = 0
    stored: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.accepted - self.stored


def _may_be_unstorable(event: NormalizedEvent) -> bool:
    # Decoded by orjson, the values hold no NaN or Infinity; NUL characters and deep nesting would show in
    # the encoding, so the walk over every value is only needed when the encoding hints at them.
    encoded = event.properties_json
    if encoded is None:
        raw = orjson.dumps([event.event, event.distinct_id, event.properties], option=orjson.OPT_NON_STR_KEYS)
        return b"\\u0000" in raw or raw.count(b"[") + raw.count(b"{") >= STORABLE_MAX_DEPTH
    if "\x00" in event.event or "\x00" in event.distinct_id or "\\u0000" in encoded:
        return True
    # One level more for the list [event, distinct_id, properties] the check walks.
    return encoded.count("[") + encoded.count("{") + 1 >= STORABLE_MAX_DEPTH


def _unstorable(event: NormalizedEvent) -> str | None:
    if not _may_be_unstorable(event):
        return None
    problem = storable_problem([event.event, event.distinct_id, event.properties])
    return f"event cannot be stored: {problem[1]}" if problem is not None else None


async def ingest_batch(
    *,
    session: Session,
    environment_id: uuid.UUID,
    raw_events: Sequence[Any],
    sent_at: datetime | None,
    received_at: datetime | None = None,
    notify: Callable[[], None] | None = None,
) -> IngestOutcome:
    """Normalise and store `raw_events` (as `decode_capture_request` decodes them) for the environment.

    Commits once; `notify` is called when new events were stored.
    """
    accepted, rejected = normalize_batch(raw_events, received_at=received_at or utcnow(), sent_at=sent_at)
    rejected_at = {r["index"] for r in rejected}
    indexes = [i for i in range(len(raw_events)) if i not in rejected_at]
    outcome = IngestOutcome(rejected=list(rejected))
    storable: list[NormalizedEvent] = []
    for index, event in zip(indexes, accepted, strict=True):
        reason = _unstorable(event)
        if reason is not None:
            outcome.rejected.append({"index": index, "reason": reason})
            continue
        storable.append(event)
        if event.warnings:
            outcome.warnings.append({"index": index, "warnings": list(event.warnings)})
    outcome.rejected.sort(key=lambda r: r["index"])
    outcome.accepted = len(storable)
    if storable:
        async with write_lock(session):
            outcome.stored = await insert_events(session=session, environment_id=environment_id, events=storable)
            await session.commit()
    if outcome.stored and notify is not None:
        notify()
    return outcome
