"""What the events, event and trace pages read: keyset pages of events by `seq`, new events for the live tail,
the `$ai_evaluation` events that judged an event, and the events of one trace.

Filters are the events API's (`storage/events.py::event_conditions`), evaluated in SQL on both databases.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.ai_events import EVALUATION
from assay.storage.event_tables import EventRow
from assay.storage.events import EventFilter, event_conditions

TARGET_KEY = "$ai_target_event_id"


SCAN_WINDOW = 25_000
"""How many positions of the event sequence one page may look through when its filters have no index to follow
(a model, a provider, any property, any `$ai_*` event): each page then costs at most this much, whatever the
table holds, and a rare match further back is reached with "look further back" (`EventPage.searched_to`)."""


@dataclass(slots=True)
class EventPage:
    """One page of events, newest (highest `seq`) first; `next_cursor` is None on the last page.

    `searched_to` is the lowest `seq` looked at when the page stopped at its scan window with fewer than a
    page of matches (older events were not searched yet; `next_cursor` continues below it), else None."""

    events: list[EventRow]
    next_cursor: int | None
    searched_to: int | None = None


def _indexed(filters: EventFilter) -> bool:
    """Whether an index leads straight to the matches (a trace, a person, a time range), so no scan window is
    needed: the work is then that of the trace's, the person's or the time range's events."""
    return any(v is not None for v in (filters.trace_id, filters.distinct_id, filters.after, filters.before))


async def page_events(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    filters: EventFilter,
    before_seq: int | None,
    limit: int,
    window: int = SCAN_WINDOW,
) -> EventPage:
    """The `limit` newest matching events with a `seq` below `before_seq` (keyset pagination), looking through at
    most `window` positions of the sequence unless an index leads to the matches."""
    query = select(EventRow).where(*event_conditions(environment_id, filters))
    if before_seq is not None:
        query = query.where(EventRow.seq < before_seq)
    floor: int | None = None
    if not _indexed(filters):
        top = before_seq if before_seq is not None else await latest_seq(session=session) + 1
        floor = top - window
        if floor > 0:
            query = query.where(EventRow.seq >= floor)
        else:
            floor = None
    rows = list(await session.scalars(query.order_by(EventRow.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if more and rows:
        return EventPage(rows, rows[-1].seq)
    if floor is not None:  # the window ended before a page was full: older events are still to search
        return EventPage(rows, floor, searched_to=floor)
    return EventPage(rows, None)


async def events_after(
    *, session: AsyncSession, environment_id: uuid.UUID, filters: EventFilter, after_seq: int, limit: int
) -> list[EventRow]:
    """The newest `limit` matching events with a `seq` above `after_seq`, newest first (the live tail's poll)."""
    query = select(EventRow).where(*event_conditions(environment_id, filters), EventRow.seq > after_seq)
    return list(await session.scalars(query.order_by(EventRow.seq.desc()).limit(limit)))


async def count_between(
    *, session: AsyncSession, environment_id: uuid.UUID, filters: EventFilter, after_seq: int, upto_seq: int
) -> int:
    """How many matching events have a `seq` above `after_seq` and at most `upto_seq` (what one tail poll saw)."""
    query = select(func.count()).where(
        *event_conditions(environment_id, filters), EventRow.seq > after_seq, EventRow.seq <= upto_seq
    )
    return int(await session.scalar(query) or 0)


async def latest_seq(*, session: AsyncSession, environment_id: uuid.UUID | None = None) -> int:
    """The highest `seq` of the environment's events, or of all events without one (0 when there are none)."""
    query = select(func.max(EventRow.seq))
    if environment_id is not None:
        query = query.where(EventRow.environment_id == environment_id)
    found = await session.scalar(query)
    return int(found or 0)


async def evaluations_of(
    *, session: AsyncSession, environment_id: uuid.UUID, target_ids: list[str], trace_id: str | None
) -> list[EventRow]:
    """The `$ai_evaluation` events that target these event uuids, oldest first.

    Evaluation events carry their target's trace id, so a traced target is looked up through the trace index.
    """
    if not target_ids:
        return []
    target = EventRow.properties[TARGET_KEY].as_string()
    query = select(EventRow).where(
        EventRow.environment_id == environment_id, EventRow.event == EVALUATION, target.in_(target_ids)
    )
    if trace_id is not None:
        query = query.where(EventRow.trace_id == trace_id)
    return list(await session.scalars(query.order_by(EventRow.seq)))


async def trace_events(
    *, session: AsyncSession, environment_id: uuid.UUID, trace_id: str, limit: int
) -> list[EventRow]:
    """At most `limit` events of one trace (`$ai_evaluation` events excluded), oldest first."""
    query = select(EventRow).where(
        EventRow.environment_id == environment_id, EventRow.trace_id == trace_id, EventRow.event != EVALUATION
    )
    return list(await session.scalars(query.order_by(EventRow.timestamp, EventRow.seq).limit(limit)))


async def trace_started_at(*, session: AsyncSession, environment_id: uuid.UUID, trace_id: str) -> datetime | None:
    """The earliest timestamp of the trace's events (PostHog's trace `createdAt`)."""
    found: datetime | None = await session.scalar(
        select(func.min(EventRow.timestamp)).where(
            EventRow.environment_id == environment_id, EventRow.trace_id == trace_id
        )
    )
    return found
