"""Spans and log records as plain values, whichever OTLP encoding (protobuf or JSON) carried them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUS_ERROR = 2
"""`Status.code` of a failed span (`STATUS_CODE_ERROR`)."""


@dataclass(frozen=True, slots=True)
class SpanEvent:
    """An event recorded on a span (e.g. `exception`)."""

    name: str
    time_unix_nano: int
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OtelSpan:
    """One span. Ids are lowercase hex (32 digits for the trace, 16 for spans); `parent_span_id` is "" at a root."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    start_time_unix_nano: int
    end_time_unix_nano: int
    attributes: dict[str, Any]
    status_code: int = 0
    status_message: str = ""
    events: tuple[SpanEvent, ...] = ()
    resource: dict[str, Any] = field(default_factory=dict)
    scope_name: str = ""
    scope_version: str = ""


@dataclass(frozen=True, slots=True)
class OtelLog:
    """One log record; `event_name` is the record's event name (or its `event.name` attribute)."""

    trace_id: str
    span_id: str
    time_unix_nano: int
    event_name: str
    body: Any
    attributes: dict[str, Any]
    resource: dict[str, Any] = field(default_factory=dict)
    scope_name: str = ""
