"""Normalising raw captured events: required fields, ids, timestamps, size caps.

Rules (PostHog's where it has them):

- `event`: a non-empty string of at most 200 characters.
- `uuid`: validated and put in canonical form. When absent (or null) a uuid4 is generated and
  `uuid_generated` is set: such an event cannot be deduplicated, so an SDK retry stores it twice.
- `distinct_id`: from `distinct_id`, `$distinct_id`, then `properties.distinct_id`; a string or a
  number (stringified), non-blank, at most 200 characters.
- `timestamp`: ISO 8601, with or without zone (none = UTC). With the request's `sent_at` the client
  clock skew is corrected: timestamp + (received_at − sent_at), unless `properties.$ignore_sent_at`.
  Without a timestamp, `offset` (ms before sending) gives received_at − offset; otherwise
  received_at. An unparseable timestamp, or one more than 23 hours in the future, falls back to
  received_at with a warning (PostHog ingests such events rather than dropping them).
- `properties` must be an object (missing → {}); top-level `$set` / `$set_once` are kept in
  properties (a value already there wins).
- Size: at most 1 MiB per event, 8 MiB for `$ai_*` events (the Python SDK's own per-event caps are
  900 KiB and 8 MiB); measured as compact JSON.
- `$ai_*` events are also checked with `validate_ai_event`; its errors reject the event, its
  warnings are kept on the event.
"""

from __future__ import annotations

import math
import uuid as uuid_mod
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from assay.domain.ai_events import inspect_ai_event
from assay.domain.events import NormalizedEvent
from assay.ingest.decode import parse_datetime

MAX_EVENT_NAME_LENGTH = 200
MAX_DISTINCT_ID_LENGTH = 200
MAX_EVENT_BYTES = 1024 * 1024
MAX_AI_EVENT_BYTES = 8 * 1024 * 1024
FUTURE_TOLERANCE = timedelta(hours=23)


class EventRejected(ValueError):
    """One event cannot be accepted; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _size(raw: Mapping[str, Any]) -> int:
    try:
        return len(orjson.dumps(raw))
    except TypeError:  # e.g. integers beyond 64 bits: measure the slow way
        import json

        return len(json.dumps(raw, default=str).encode())


def _size_and_properties(raw: Mapping[str, Any]) -> tuple[int, bytes | None]:
    """The event's compact-JSON size and, when it could be measured that way, the encoding of its properties.

    The properties (nearly all of an event's bytes) are encoded once: the size is the encoding of the other
    members plus the `"properties":` member, and the properties' encoding is kept for storing.
    """
    props = raw.get("properties")
    if type(raw) is not dict or type(props) is not dict:
        return _size(raw), None
    try:
        encoded = orjson.dumps(props)
        others = orjson.dumps({k: v for k, v in raw.items() if k != "properties"})
    except TypeError:
        return _size(raw), None
    separator = 1 if len(raw) > 1 else 0
    return len(others) + separator + len(b'"properties":') + len(encoded), encoded


def _event_name(raw: Mapping[str, Any]) -> str:
    name = raw.get("event")
    if name is None:
        raise EventRejected("event name is missing")
    if not isinstance(name, str):
        raise EventRejected("event name must be a string")
    if not name.strip():
        raise EventRejected("event name is empty")
    if len(name) > MAX_EVENT_NAME_LENGTH:
        raise EventRejected(f"event name is {len(name)} characters long; the limit is {MAX_EVENT_NAME_LENGTH}")
    return name


def _uuid(raw: Mapping[str, Any]) -> tuple[str, bool]:
    value = raw.get("uuid")
    if value is None or value == "":
        return str(uuid_mod.uuid4()), True
    if not isinstance(value, str) or len(value) > 64:
        raise EventRejected("uuid must be a UUID string")
    try:
        return str(uuid_mod.UUID(value)), False
    except ValueError:
        raise EventRejected(f"uuid {value[:64]!r} is not a valid UUID") from None


def _distinct_id(raw: Mapping[str, Any], props: Mapping[str, Any]) -> str:
    value = raw.get("distinct_id")
    if value is None:
        value = raw.get("$distinct_id")
    if value is None:
        value = props.get("distinct_id")
    if value is None:
        raise EventRejected("distinct_id is missing")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise EventRejected("distinct_id must be a string or a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise EventRejected("distinct_id must be a finite number")
    text = value if isinstance(value, str) else str(value)
    if not text.strip():
        raise EventRejected("distinct_id is empty")
    if len(text) > MAX_DISTINCT_ID_LENGTH:
        raise EventRejected(f"distinct_id is {len(text)} characters long; the limit is {MAX_DISTINCT_ID_LENGTH}")
    return text


def _as_utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def resolve_timestamp(
    raw: Mapping[str, Any],
    props: Mapping[str, Any],
    *,
    received_at: datetime,
    sent_at: datetime | None,
) -> tuple[datetime, list[str]]:
    """The event time (UTC) and any warnings, following the module rules."""
    now = _as_utc(received_at)
    warnings: list[str] = []
    ts_value = raw.get("timestamp")
    offset = raw.get("offset")
    result: datetime | None
    if ts_value is not None:
        ts = parse_datetime(ts_value) if isinstance(ts_value, str) else None
        if ts is None:
            warnings.append(f"timestamp {str(ts_value)[:64]!r} is not ISO 8601; using the time received")
            return now, warnings
        if sent_at is not None and props.get("$ignore_sent_at") is not True:
            try:
                result = ts + (now - _as_utc(sent_at))
            except OverflowError:
                result = None
        else:
            result = ts
    elif isinstance(offset, int | float) and not isinstance(offset, bool) and math.isfinite(offset):
        try:
            result = now - timedelta(milliseconds=offset)
        except OverflowError:
            result = None
    else:
        return now, warnings
    if result is None:
        warnings.append("timestamp is out of range; using the time received")
        return now, warnings
    if result - now > FUTURE_TOLERANCE:
        warnings.append(f"timestamp {result.isoformat()} is more than 23 hours in the future; using the time received")
        return now, warnings
    return result, warnings


def _trace_id(props: Mapping[str, Any]) -> str | None:
    value = props.get("$ai_trace_id")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, int):
        return str(value)
    return None


def normalize_event(raw: Any, *, received_at: datetime, sent_at: datetime | None) -> NormalizedEvent:
    """Validate and normalise one raw event (raises `EventRejected` with the reason)."""
    if not isinstance(raw, Mapping):
        raise EventRejected("event must be a JSON object")
    name = _event_name(raw)
    limit = MAX_AI_EVENT_BYTES if name.startswith("$ai_") else MAX_EVENT_BYTES
    size, properties_json = _size_and_properties(raw)
    if size > limit:
        raise EventRejected(f"event is {size} bytes; the limit for {name} is {limit // 1024} KiB")
    props_raw = raw.get("properties")
    if props_raw is None:
        props: dict[str, Any] = {}
    elif isinstance(props_raw, Mapping):
        props = dict(props_raw)
    else:
        raise EventRejected("properties must be a JSON object")
    for key in ("$set", "$set_once"):
        if key in raw and key not in props:
            props[key] = raw[key]
            properties_json = None
    event_uuid, generated = _uuid(raw)
    distinct_id = _distinct_id(raw, props)
    timestamp, warnings = resolve_timestamp(raw, props, received_at=received_at, sent_at=sent_at)
    if name.startswith("$ai_"):
        issues = inspect_ai_event(name, props)
        if issues.errors:
            raise EventRejected(f"invalid {name} event: " + "; ".join(issues.errors))
        warnings.extend(issues.warnings)
    return NormalizedEvent(
        uuid=event_uuid,
        event=name,
        distinct_id=distinct_id,
        timestamp=timestamp,
        properties=props,
        trace_id=_trace_id(props),
        uuid_generated=generated,
        warnings=tuple(warnings),
        properties_json=properties_json.decode() if properties_json is not None else None,
    )


def normalize_batch(
    events: Sequence[Any], *, received_at: datetime, sent_at: datetime | None
) -> tuple[list[NormalizedEvent], list[dict[str, Any]]]:
    """Normalise every event: (accepted, rejected as `{"index", "reason"}`), one bad event never spoils the rest.

    Duplicate uuids within a batch are all returned; storage deduplicates on uuid.
    """
    accepted: list[NormalizedEvent] = []
    rejected: list[dict[str, Any]] = []
    for i, raw in enumerate(events):
        try:
            accepted.append(normalize_event(raw, received_at=received_at, sent_at=sent_at))
        except EventRejected as e:
            rejected.append({"index": i, "reason": e.reason})
        except (RecursionError, ValueError, TypeError) as e:  # defensive: odd input is the client's problem
            rejected.append({"index": i, "reason": f"event could not be read ({type(e).__name__})"})
    return accepted, rejected
