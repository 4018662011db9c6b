"""Event normalisation: ids, distinct ids, timestamps, caps, $ai_* checks, batches."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.domain.events import NormalizedEvent
from assay.ingest.events import (
    MAX_EVENT_BYTES,
    EventRejected,
    normalize_batch,
    normalize_event,
)

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


def norm(raw: object, sent_at: datetime | None = None) -> NormalizedEvent:
    return normalize_event(raw, received_at=NOW, sent_at=sent_at)


def rejected(raw: object) -> str:
    with pytest.raises(EventRejected) as ei:
        norm(raw)
    return ei.value.reason


def test_minimal_event() -> None:
    e = norm({"event": "clicked", "distinct_id": "u1"})
    assert (e.event, e.distinct_id, e.timestamp, e.properties, e.trace_id) == ("clicked", "u1", NOW, {}, None)
    assert e.uuid_generated is True and uuid.UUID(e.uuid).version == 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.event = "x"  # type: ignore[misc]


def test_uuid_canonicalised() -> None:
    e = norm({"event": "e", "distinct_id": "u", "uuid": "0191A7A8000070008000000000000001"})
    assert e.uuid == "0191a7a8-0000-7000-8000-000000000001" and e.uuid_generated is False
    assert "not a valid UUID" in rejected({"event": "e", "distinct_id": "u", "uuid": "nope"})
    assert "must be a UUID string" in rejected({"event": "e", "distinct_id": "u", "uuid": 5})


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"distinct_id": "u"}, "event name is missing"),
        ({"event": "", "distinct_id": "u"}, "event name is empty"),
        ({"event": "  ", "distinct_id": "u"}, "event name is empty"),
        ({"event": 5, "distinct_id": "u"}, "event name must be a string"),
        ({"event": "x" * 201, "distinct_id": "u"}, "201 characters long; the limit is 200"),
        ({"event": "e"}, "distinct_id is missing"),
        ({"event": "e", "distinct_id": ""}, "distinct_id is empty"),
        ({"event": "e", "distinct_id": True}, "string or a number"),
        ({"event": "e", "distinct_id": {"a": 1}}, "string or a number"),
        ({"event": "e", "distinct_id": "d" * 201}, "distinct_id is 201 characters long"),
        ({"event": "e", "distinct_id": "u", "properties": [1]}, "properties must be a JSON object"),
        ([1, 2], "event must be a JSON object"),
        ("event", "event must be a JSON object"),
    ],
)
def test_rejections(raw: object, needle: str) -> None:
    assert needle in rejected(raw)


def test_distinct_id_sources() -> None:
    assert norm({"event": "e", "$distinct_id": "a"}).distinct_id == "a"
    assert norm({"event": "e", "properties": {"distinct_id": "b"}}).distinct_id == "b"
    assert norm({"event": "e", "distinct_id": "top", "properties": {"distinct_id": "p"}}).distinct_id == "top"
    assert norm({"event": "e", "distinct_id": 12345}).distinct_id == "12345"
    assert norm({"event": "e", "distinct_id": 1.5}).distinct_id == "1.5"
    assert norm({"event": "e", "distinct_id": "d" * 200}).distinct_id == "d" * 200


def test_set_kept_in_properties() -> None:
    e = norm({"event": "$identify", "distinct_id": "u", "$set": {"a": 1}, "$set_once": {"b": 2}})
    assert e.properties == {"$set": {"a": 1}, "$set_once": {"b": 2}}
    e = norm({"event": "e", "distinct_id": "u", "$set": {"a": 1}, "properties": {"$set": {"a": 2}}})
    assert e.properties["$set"] == {"a": 2}


def test_raw_is_not_mutated() -> None:
    raw = {"event": "e", "distinct_id": "u", "$set": {"a": 1}, "properties": {"k": 1}}
    norm(raw)
    assert raw["properties"] == {"k": 1}


# --- timestamps ----------------------------------------------------------------------


def test_timestamp_with_and_without_zone() -> None:
    e = norm({"event": "e", "distinct_id": "u", "timestamp": "2025-06-01T13:00:00+02:00"})
    assert e.timestamp == datetime(2025, 6, 1, 11, 0, tzinfo=UTC) and e.timestamp.tzinfo is UTC
    assert norm({"event": "e", "distinct_id": "u", "timestamp": "2025-06-01T11:00:00"}).timestamp == datetime(
        2025, 6, 1, 11, 0, tzinfo=UTC
    )


def test_clock_skew_correction() -> None:
    # the client clock runs 10 minutes fast: it stamped the event 1 s before sending
    client_now = NOW + timedelta(minutes=10)
    raw = {"event": "e", "distinct_id": "u", "timestamp": (client_now - timedelta(seconds=1)).isoformat()}
    assert norm(raw, sent_at=client_now).timestamp == NOW - timedelta(seconds=1)
    ignored = {**raw, "properties": {"$ignore_sent_at": True}}
    assert norm(ignored, sent_at=client_now).timestamp == client_now - timedelta(seconds=1)


def test_offset_and_missing() -> None:
    assert norm({"event": "e", "distinct_id": "u", "offset": 1500}).timestamp == NOW - timedelta(milliseconds=1500)
    assert norm({"event": "e", "distinct_id": "u"}).timestamp == NOW
    assert norm({"event": "e", "distinct_id": "u", "offset": "soon"}).timestamp == NOW


def test_bad_and_future_timestamps_fall_back_with_warning() -> None:
    e = norm({"event": "e", "distinct_id": "u", "timestamp": "last tuesday"})
    assert e.timestamp == NOW and "not ISO 8601" in e.warnings[0]
    e = norm({"event": "e", "distinct_id": "u", "timestamp": 1700000000})
    assert e.timestamp == NOW and e.warnings
    e = norm({"event": "e", "distinct_id": "u", "timestamp": (NOW + timedelta(days=2)).isoformat()})
    assert e.timestamp == NOW and "future" in e.warnings[0]
    ok = norm({"event": "e", "distinct_id": "u", "timestamp": (NOW + timedelta(hours=22)).isoformat()})
    assert ok.timestamp == NOW + timedelta(hours=22) and ok.warnings == ()
    e = norm(
        {"event": "e", "distinct_id": "u", "timestamp": "9999-12-31T23:59:59+00:00"}, sent_at=NOW - timedelta(days=1)
    )
    assert e.timestamp == NOW and "out of range" in e.warnings[0]


# --- size and $ai_* ------------------------------------------------------------------


def test_size_caps() -> None:
    big = "x" * MAX_EVENT_BYTES
    reason = rejected({"event": "e", "distinct_id": "u", "properties": {"blob": big}})
    assert "the limit for e is 1024 KiB" in reason
    ai = norm({"event": "$ai_generation", "distinct_id": "u", "properties": {"$ai_trace_id": "t", "$ai_input": big}})
    assert ai.trace_id == "t"
    huge = "x" * (8 * 1024 * 1024)
    assert "8192 KiB" in rejected({"event": "$ai_span", "distinct_id": "u", "properties": {"$ai_input_state": huge}})


def test_ai_validation() -> None:
    reason = rejected({"event": "$ai_generation", "distinct_id": "u", "properties": {"$ai_trace_id": {"x": 1}}})
    assert reason.startswith("invalid $ai_generation event: $ai_trace_id must be a string")
    e = norm({"event": "$ai_generation", "distinct_id": "u", "properties": {"$ai_input": "hi"}})
    assert any("$ai_trace_id is missing" in w for w in e.warnings) and e.trace_id is None
    assert norm({"event": "$ai_span", "distinct_id": "u", "properties": {"$ai_trace_id": 77}}).trace_id == "77"
    assert norm({"event": "custom", "distinct_id": "u", "properties": {"$ai_trace_id": "t"}}).trace_id == "t"


# --- batches -------------------------------------------------------------------------


def test_batch_keeps_good_events_and_reports_bad_ones() -> None:
    events = [
        {"event": "ok", "distinct_id": "u"},
        {"event": "", "distinct_id": "u"},
        "junk",
        {"event": "ok2", "distinct_id": "u", "uuid": "bad"},
        {"event": "ok3", "properties": {"distinct_id": "v"}},
    ]
    accepted, rej = normalize_batch(events, received_at=NOW, sent_at=None)
    assert [e.event for e in accepted] == ["ok", "ok3"]
    assert rej == [
        {"index": 1, "reason": "event name is empty"},
        {"index": 2, "reason": "event must be a JSON object"},
        {"index": 3, "reason": "uuid 'bad' is not a valid UUID"},
    ]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=20,
)


@pytest.mark.timeout(360)
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["event", "distinct_id", "uuid", "timestamp", "offset", "properties", "$set"]), _json
        )
        | _json,
        max_size=6,
    )
)
def test_batch_never_raises(events: list[object]) -> None:
    accepted, rej = normalize_batch(events, received_at=NOW, sent_at=NOW - timedelta(seconds=3))
    assert len(accepted) + len(rej) == len(events)
    for e in accepted:
        assert e.timestamp.tzinfo is not None and isinstance(e.distinct_id, str) and uuid.UUID(e.uuid)
    for r in rej:
        assert r["reason"]
