"""Event pages on both databases: a filter no index serves looks through a bounded window of the sequence per
page, and following "look further back" reaches every match exactly once, newest first."""

from __future__ import annotations

import uuid
from datetime import timedelta

from assay.domain.events import NormalizedEvent
from assay.storage import event_pages
from assay.storage.db import make_engine, make_sessionmaker
from assay.storage.environments import create_environment
from assay.storage.events import EventFilter, insert_events
from assay.storage.types import utcnow


def generation(i: int, model: str) -> NormalizedEvent:
    return NormalizedEvent(
        uuid=str(uuid.uuid4()),
        event="$ai_generation",
        distinct_id=f"user-{i % 4}",
        timestamp=utcnow() - timedelta(minutes=200 - i),
        properties={"$ai_model": model, "$ai_trace_id": f"t-{i // 10}"},
        trace_id=f"t-{i // 10}",
    )


async def test_a_sparse_filter_is_read_a_window_at_a_time(database_url: str) -> None:
    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    try:
        async with sessionmaker() as session:
            env = await create_environment(session=session, name="pages")
            events = [generation(i, "rare" if i % 17 == 3 else "common") for i in range(120)]
            await insert_events(session=session, environment_id=env.id, events=events)
            await session.commit()
        rare = [e.uuid for e in reversed(events) if e.properties["$ai_model"] == "rare"]
        found: list[str] = []
        windows = 0
        cursor: int | None = None
        async with sessionmaker() as session:
            while True:
                page = await event_pages.page_events(
                    session=session,
                    environment_id=env.id,
                    filters=EventFilter(event="$ai_generation", model="rare"),
                    before_seq=cursor,
                    limit=3,
                    window=25,
                )
                found += [str(r.uuid) for r in page.events]
                windows += page.searched_to is not None
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            assert found == rare and windows >= 4
            # a trace is reached through its index in one page, however far back
            oldest = await event_pages.page_events(
                session=session,
                environment_id=env.id,
                filters=EventFilter(event="$ai_generation", trace_id="t-0"),
                before_seq=None,
                limit=50,
                window=25,
            )
            assert [str(r.uuid) for r in oldest.events] == [e.uuid for e in reversed(events[:10])]
            assert oldest.next_cursor is None and oldest.searched_to is None
    finally:
        await engine.dispose()
