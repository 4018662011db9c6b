"""`services/ingestion.py`: one encoding of the properties from normalising to the insert, against real SQLite."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.storable import STORABLE_MAX_DEPTH, storable_problem
from assay.ingest.events import _size, normalize_event
from assay.services.ingestion import _unstorable, ingest_batch
from assay.storage.db import dump_json, make_engine, make_sessionmaker
from assay.storage.environments import create_environment
from assay.storage.events import EventFilter, list_events
from assay.storage.migrate import upgrade

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


RAW_EVENTS: list[dict[str, Any]] = [
    {"event": "e", "distinct_id": "u", "properties": {"a": [1, 2.5, {"b": "héllo"}], "n": None}},
    {"event": "e", "distinct_id": "u"},
    {"event": "e", "distinct_id": "u", "properties": {}},
    {"event": "e", "distinct_id": 7, "properties": {"n": 12345678901234567890}},
    {"event": "e", "distinct_id": "u", "properties": {"x": 1}, "$set": {"plan": "pro"}},
    {"event": "e", "distinct_id": "u", "properties": {"text": "a\x00b"}},
    {"event": "e", "distinct_id": "u", "properties": {"key\x00": 1}},
    {"event": "e\x00", "distinct_id": "u", "properties": {}},
    {"event": "e", "distinct_id": "u", "properties": {"text": "brackets [[[{{{ and \\u0000 as text"}},
    {"event": "e", "distinct_id": "u", "properties": _nested(STORABLE_MAX_DEPTH - 2)},
    {"event": "e", "distinct_id": "u", "properties": _nested(STORABLE_MAX_DEPTH - 1)},
    {"event": "e", "distinct_id": "u", "properties": _nested(STORABLE_MAX_DEPTH)},
]


@pytest.mark.parametrize("raw", RAW_EVENTS)
def test_one_encoding_serves_size_storable_check_and_insert(raw: dict[str, Any]) -> None:
    event = normalize_event(raw, received_at=NOW, sent_at=None)
    if event.properties_json is not None:
        assert event.properties_json == dump_json(event.properties)
    # The storable decision is the full check's, whatever the shortcut decides.
    problem = storable_problem([event.event, event.distinct_id, event.properties])
    reason = _unstorable(event)
    assert (reason is None) == (problem is None)
    if problem is not None:
        assert reason == f"event cannot be stored: {problem[1]}"


# Beyond 64 bits only when built in Python: the capture decoders read such numbers as floats.
SIZE_ONLY = [{"properties": {"a": 1}}, {"z": [1], "properties": {"q": "r"}, "a": 2}, {"properties": {"big": 2**70}}]


@pytest.mark.parametrize("raw", [*RAW_EVENTS, *SIZE_ONLY])
def test_measured_size_is_the_compact_encoding_of_the_whole_event(raw: dict[str, Any]) -> None:
    from assay.ingest.events import _size_and_properties

    size, encoded = _size_and_properties(raw)
    assert size == _size(raw)
    if encoded is not None:
        assert size == len(orjson.dumps(raw))


def test_top_level_set_is_encoded_with_the_properties() -> None:
    event = normalize_event(RAW_EVENTS[4], received_at=NOW, sent_at=None)
    assert event.properties == {"x": 1, "$set": {"plan": "pro"}}
    assert event.properties_json is None


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[AsyncSession]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/ingest.db")
    await upgrade(engine)
    try:
        async with make_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def test_ingest_batch_stores_reports_and_notifies(session: AsyncSession) -> None:
    env = await create_environment(session=session, name="ingest")
    await session.commit()
    calls: list[None] = []
    first = {"event": "e", "distinct_id": "u", "uuid": str(uuid.uuid4()), "properties": {"t": "héllo", "n": [1]}}
    batch = [
        first,
        {"event": "e", "distinct_id": "u", "properties": {"bad": "\x00"}},
        {"distinct_id": "u"},
        {**first, "$set": {"a": 1}},
    ]
    outcome = await ingest_batch(
        session=session,
        environment_id=env.id,
        raw_events=batch,
        sent_at=None,
        received_at=NOW,
        notify=lambda: calls.append(None),
    )
    assert (outcome.accepted, outcome.stored, outcome.duplicates) == (2, 1, 1)
    assert [r["index"] for r in outcome.rejected] == [1, 2]
    assert outcome.rejected[0]["reason"] == "event cannot be stored: Null characters are not allowed."
    assert len(calls) == 1
    count, rows = await list_events(session=session, environment_id=env.id, filters=EventFilter(), limit=10, offset=0)
    assert count == 1 and rows[0].properties == first["properties"]

    again = await ingest_batch(
        session=session, environment_id=env.id, raw_events=[first], sent_at=None, notify=lambda: calls.append(None)
    )
    assert (again.accepted, again.stored) == (1, 0)
    assert len(calls) == 1  # nothing new stored: the scheduler is not woken
