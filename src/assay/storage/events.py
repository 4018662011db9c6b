"""Storing and reading ingested events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, String, and_, cast, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.events import NormalizedEvent
from assay.storage.db import dump_json
from assay.storage.event_tables import EventRow
from assay.storage.paging import fetch_page
from assay.storage.types import utcnow

INSERT_CHUNK = 500
"""Rows per INSERT statement (9 parameters a row stays well under SQLite's bound-parameter limit)."""


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Column filters for listing events; every field is optional and they are ANDed."""

    event: str | None = None
    after: datetime | None = None
    before: datetime | None = None
    trace_id: str | None = None
    distinct_id: str | None = None
    event_prefix: str | None = None
    model: str | None = None
    provider: str | None = None
    property_key: str | None = None
    property_value: str | None = None


async def insert_events(*, session: AsyncSession, environment_id: uuid.UUID, events: Sequence[NormalizedEvent]) -> int:
    """Bulk-insert events, ignoring uuids already stored in the environment; returns how many were new.

    The caller commits. Duplicates inside `events` are stored once (the first wins).
    """
    if not events:
        return 0
    if session.get_bind().dialect.name == "sqlite":
        return await _insert_sqlite(session, environment_id, events)
    # One cached statement executed with many parameter sets: SQLAlchemy batches it ("insertmanyvalues")
    # without compiling a fresh multi-row statement per request, and RETURNING counts the new rows.
    stmt = (
        postgresql.insert(EventRow.__table__)
        .on_conflict_do_nothing(index_elements=["environment_id", "uuid"])
        .returning(EventRow.__table__.c.seq)
    )
    now = utcnow()
    rows = [
        {
            "uuid": uuid.UUID(e.uuid),
            "environment_id": environment_id,
            "event": e.event,
            "distinct_id": e.distinct_id,
            "timestamp": e.timestamp,
            "properties": e.properties,
            "trace_id": e.trace_id,
            "created_at": now,
        }
        for e in events
    ]
    inserted = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        result = await session.execute(stmt, rows[start : start + INSERT_CHUNK])
        inserted += len(result.all())
    return inserted


_SQLITE_INSERT = (
    "INSERT INTO events (uuid, environment_id, event, distinct_id, timestamp, properties, trace_id, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (environment_id, uuid) DO NOTHING"
)


def sqlite_uuid(value: str) -> str:
    """A canonical uuid string as SQLAlchemy's `Uuid` type stores it on SQLite (32 hex digits)."""
    return value.replace("-", "")


def sqlite_datetime(value: datetime) -> str:
    """An aware datetime as `UTCDateTime` stores it on SQLite (naive UTC, always six fractional digits)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


async def _insert_sqlite(session: AsyncSession, environment_id: uuid.UUID, events: Sequence[NormalizedEvent]) -> int:
    # The ingestion hot path: values are put in their stored form here (the same as the column types
    # produce; tests compare the two) and handed to the driver's executemany, which loops in C.
    # Per-row type processing and RETURNING through the ORM cost more than SQLite's own work.
    env = environment_id.hex
    now = sqlite_datetime(utcnow())
    rows = [
        (
            sqlite_uuid(e.uuid),
            env,
            e.event,
            e.distinct_id,
            sqlite_datetime(e.timestamp),
            e.properties_json if e.properties_json is not None else dump_json(e.properties),
            e.trace_id,
            now,
        )
        for e in events
    ]
    connection = await session.connection()
    result = await connection.exec_driver_sql(_SQLITE_INSERT, rows)
    return int(result.rowcount)


def _property_text(key: str) -> ColumnElement[str]:
    """A top-level property as text on both databases (SQLite's JSON numbers are cast, PostgreSQL's ->> is text)."""
    return cast(EventRow.properties[key].as_string(), String)


def event_conditions(environment_id: uuid.UUID, filters: EventFilter) -> list[ColumnElement[bool]]:
    """The WHERE conditions of `filters` (ANDed) for the environment's events."""
    conditions: list[ColumnElement[bool]] = [EventRow.environment_id == environment_id]
    if filters.event is not None:
        conditions.append(EventRow.event == filters.event)
    if filters.event_prefix is not None:
        conditions.append(EventRow.event.startswith(filters.event_prefix, autoescape=True))
    if filters.after is not None:
        conditions.append(EventRow.timestamp > filters.after)
    if filters.before is not None:
        conditions.append(EventRow.timestamp < filters.before)
    if filters.trace_id is not None:
        conditions.append(EventRow.trace_id == filters.trace_id)
    if filters.distinct_id is not None:
        conditions.append(EventRow.distinct_id == filters.distinct_id)
    if filters.model is not None:
        conditions.append(_property_text("$ai_model") == filters.model)
    if filters.provider is not None:
        conditions.append(_property_text("$ai_provider") == filters.provider)
    if filters.property_key is not None:
        conditions.append(_property_text(filters.property_key) == (filters.property_value or ""))
    return conditions


def _filtered(environment_id: uuid.UUID, filters: EventFilter) -> Select[tuple[EventRow]]:
    query = select(EventRow).where(*event_conditions(environment_id, filters))
    return query.order_by(EventRow.timestamp.desc(), EventRow.seq.desc())


async def list_events(
    *, session: AsyncSession, environment_id: uuid.UUID, filters: EventFilter, limit: int, offset: int
) -> tuple[int, list[EventRow]]:
    """The count of matching events and one page of them, newest (by event time) first."""
    return await fetch_page(session, _filtered(environment_id, filters), limit=limit, offset=offset)


async def latest_events(
    *, session: AsyncSession, environment_id: uuid.UUID, filters: EventFilter, limit: int
) -> list[EventRow]:
    """At most `limit` matching events, newest first (candidates for filtering in Python, e.g. test_hog)."""
    return list(await session.scalars(_filtered(environment_id, filters).limit(limit)))


async def scan_events(
    *, session: AsyncSession, environment_id: uuid.UUID, filters: EventFilter, max_rows: int, chunk_size: int = 200
) -> AsyncIterator[list[EventRow]]:
    """Matching events newest first, in chunks of `chunk_size`, at most `max_rows` in all.

    Keyset pagination on (timestamp, seq), so memory stays bounded by one chunk however large events are.
    """
    base = _filtered(environment_id, filters)
    seen = 0
    last: tuple[datetime, int] | None = None
    while seen < max_rows:
        query = base
        if last is not None:
            ts, seq = last
            query = query.where(or_(EventRow.timestamp < ts, and_(EventRow.timestamp == ts, EventRow.seq < seq)))
        rows = list(await session.scalars(query.limit(min(chunk_size, max_rows - seen))))
        if not rows:
            return
        seen += len(rows)
        last = (rows[-1].timestamp, rows[-1].seq)
        yield rows
        if len(rows) < chunk_size:
            return


async def events_by_seq(*, session: AsyncSession, environment_id: uuid.UUID, seqs: Sequence[int]) -> list[EventRow]:
    """The environment's events with these sequence numbers, in the order given."""
    if not seqs:
        return []
    rows = await session.scalars(
        select(EventRow).where(EventRow.environment_id == environment_id, EventRow.seq.in_(list(seqs)))
    )
    by_seq = {r.seq: r for r in rows}
    return [by_seq[s] for s in seqs if s in by_seq]


async def get_event(*, session: AsyncSession, environment_id: uuid.UUID, event_uuid: uuid.UUID) -> EventRow | None:
    """One event of the environment by uuid, or None."""
    return await session.scalar(
        select(EventRow).where(EventRow.environment_id == environment_id, EventRow.uuid == event_uuid)
    )
