"""Accepting a decoded batch: normalise each event, refuse what cannot be stored, bulk-insert the rest.

Shared by the capture endpoints (project token) and `POST /api/environments/{id}/events` (API key).
Nothing is evaluated here: the online scheduler follows the events table on its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic_core import PydanticCustomError
from sqlalchemy.ext.asyncio import AsyncSession

from assay.api.safe_json import STORABLE_MAX_DEPTH, check_storable
from assay.ingest.events import NormalizedEvent, normalize_batch
from assay.storage.db import write_lock
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


def wake_online_scheduler(app: Any) -> None:
    """Tell the app's online scheduler (when it runs) that events were stored; it never blocks ingestion."""
    online = getattr(app.state, "online", None)
    if online is not None:
        online.notify()


def _unstorable(event: NormalizedEvent) -> str | None:
    stored = [event.event, event.distinct_id, event.properties]
    # Decoded by orjson, the values hold no NaN or Infinity; NUL characters and deep nesting would show in
    # the encoding, so the walk over every value is only needed when the encoding hints at them.
    encoded = orjson.dumps(stored, option=orjson.OPT_NON_STR_KEYS)
    if b"\\u0000" not in encoded and encoded.count(b"[") + encoded.count(b"{") < STORABLE_MAX_DEPTH:
        return None
    try:
        check_storable(stored)
    except PydanticCustomError as e:
        return f"event cannot be stored: {e.message()}"
    return None


async def ingest_batch(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    raw_events: Sequence[Any],
    sent_at: datetime | None,
    received_at: datetime | None = None,
) -> IngestOutcome:
    """Normalise and store `raw_events` (as `decode_capture_request` decodes them) for the environment.

    Commits once.
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
    return outcome
