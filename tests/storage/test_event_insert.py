"""The SQLite fast path for inserting events stores exactly what the column types would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select
from sqlalchemy.dialects import sqlite

from assay.domain.events import NormalizedEvent
from assay.storage.db import make_engine, make_sessionmaker
from assay.storage.environments import create_environment
from assay.storage.event_tables import EventRow
from assay.storage.events import EventFilter, insert_events, list_events, sqlite_datetime, sqlite_uuid

MOMENTS = [
    datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=UTC),
    datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC),  # no fraction: still six digits
    datetime(2026, 11, 23, 3, 2, 3, 5, tzinfo=timezone(timedelta(hours=2))),  # converted to UTC
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),  # a short year is zero-padded
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_datetime_form_matches_the_column_type(moment: datetime) -> None:
    dialect = sqlite.dialect()
    column_type = EventRow.__table__.c.timestamp.type
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    assert sqlite_datetime(moment) == process(moment)


def test_uuid_form_matches_the_column_type() -> None:
    dialect = sqlite.dialect()
    column_type = EventRow.__table__.c.uuid.type
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    for _ in range(20):
        value = uuid.uuid4()
        assert sqlite_uuid(str(value)) == process(value)


def _event(moment: datetime, event_uuid: str | None = None) -> NormalizedEvent:
    return NormalizedEvent(
        uuid=event_uuid or str(uuid.uuid4()),
        event="$ai_generation",
        distinct_id="user",
        timestamp=moment,
        properties={"$ai_trace_id": "t", "n": 12345678901234567890, "text": "héllo"},
        trace_id="t",
    )


async def test_fast_path_rows_read_back_like_orm_rows(tmp_path) -> None:  # noqa: ANN001
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/events.db")
    async with engine.begin() as conn:
        await conn.run_sync(EventRow.metadata.create_all)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            env = await create_environment(session=session, name="e")
            fast = [_event(m) for m in MOMENTS[:3]]
            assert await insert_events(session=session, environment_id=env.id, events=fast) == 3
            # the same events again, plus one duplicated inside the batch: only the new uuid counts
            again = [*fast, _event(MOMENTS[0], "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")] * 2
            assert await insert_events(session=session, environment_id=env.id, events=again) == 1
            # a row written by SQLAlchemy's own type processing, for comparison
            orm_uuid = uuid.uuid4()
            await session.execute(
                insert(EventRow).values(
                    uuid=orm_uuid,
                    environment_id=env.id,
                    event="$ai_generation",
                    distinct_id="user",
                    timestamp=MOMENTS[0],
                    properties={"x": 1},
                    trace_id="t",
                    created_at=MOMENTS[0],
                )
            )
            await session.commit()
            raw = (await session.execute(select(EventRow.timestamp, EventRow.uuid).order_by(EventRow.seq))).all()
            assert [r.timestamp for r in raw[:3]] == [m.astimezone(UTC) for m in MOMENTS[:3]]
            assert str(raw[0].uuid) == fast[0].uuid
            stored = {str(r.uuid): r for r in await session.scalars(select(EventRow))}
            assert stored[fast[0].uuid].properties == fast[0].properties  # exact beyond 64 bits
            # range filters compare the stored text: both writers must sort the same way
            count, page = await list_events(
                session=session,
                environment_id=env.id,
                filters=EventFilter(
                    after=MOMENTS[0] - timedelta(microseconds=1), before=MOMENTS[0] + timedelta(microseconds=1)
                ),
                limit=10,
                offset=0,
            )
            expected = {fast[0].uuid, "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", str(orm_uuid)}
            assert count == 3 and {str(r.uuid) for r in page} == expected
    finally:
        await engine.dispose()
