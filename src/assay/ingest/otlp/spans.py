"""One OTLP span as one captured event (`$ai_generation`, `$ai_embedding`, `$ai_span` or `$ai_trace`).

- Only AI spans become events: a name or an attribute key starting with `gen_ai.`, `llm.`, `ai.`, `traceloop.` or
  `openinference.` (what `posthog.ai.otel` forwards, plus OpenInference). Others are skipped, not refused.
- The dialects (`semconv.py`, then `openllmetry.py`, then `openinference.py`) give the properties, the first
  one set wins; the first kind named wins. A generation or embedding keeps its kind; another span is a `$ai_span`,
  or the `$ai_trace` when it is the trace's root. A span or trace shows its messages as `$ai_input_state` /
  `$ai_output_state`.
- Trace id → `$ai_trace_id`, span id → `$ai_span_id`, parent span id → `$ai_parent_id`, name → `$ai_span_name`,
  duration → `$ai_latency` (seconds), an error status → `$ai_is_error` and `$ai_error` (the status message or the
  `exception` event's message).
- `distinct_id`: `posthog.distinct_id`, `user.id`, `enduser.id` (on the span, then its resource), else the trace id.
- The event uuid is derived from the trace and span ids, so an exporter's retry stores the span once.
- Attributes no dialect used are kept as properties under their own keys (`$session_id` from `posthog.ai.otel`
  among them), with `service.name` and the instrumentation scope (`otel.scope.name`, `otel.scope.version`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from assay.domain.ai_events import EMBEDDING, GENERATION, SPAN, TRACE
from assay.ingest.otlp.mapped import Kind, Mapped
from assay.ingest.otlp.openinference import read_openinference
from assay.ingest.otlp.openllmetry import read_openllmetry
from assay.ingest.otlp.records import STATUS_ERROR, OtelSpan
from assay.ingest.otlp.semconv import read_semconv

AI_PREFIXES = ("gen_ai.", "llm.", "ai.", "traceloop.", "openinference.")
DISTINCT_ID_KEYS = (
    "posthog.distinct_id",
    "user.id",
    "enduser.id",
    "ai.telemetry.metadata.posthog_distinct_id",
    "ai.settings.context.posthog_distinct_id",
)
_NAMESPACE = uuid.UUID("5f0c6bd4-6f7a-4f43-9d1e-0b7c1d3e2a11")
_EVENTS: dict[Kind, str] = {"generation": GENERATION, "embedding": EMBEDDING}


class SpanRejected(ValueError):
    """A span that cannot become an event; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_ai_span(span: OtelSpan) -> bool:
    """Whether the span belongs to an LLM application (by its name or its attribute keys)."""
    return span.name.startswith(AI_PREFIXES) or any(key.startswith(AI_PREFIXES) for key in span.attributes)


def event_uuid(trace_id: str, span_id: str) -> str:
    """The stable uuid of the event of a span."""
    return str(uuid.uuid5(_NAMESPACE, f"{trace_id}:{span_id}"))


def _iso(unix_nano: int) -> str | None:
    if unix_nano <= 0:
        return None
    try:
        return datetime.fromtimestamp(unix_nano / 1e9, tz=UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def _distinct_id(span: OtelSpan) -> str:
    for source in (span.attributes, span.resource):
        for key in DISTINCT_ID_KEYS:
            value = source.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
                return str(value)
    return span.trace_id


def _error(span: OtelSpan) -> str | None:
    for event in span.events:
        if event.name == "exception":
            message = event.attributes.get("exception.message") or event.attributes.get("exception.type")
            if message:
                return str(message)
    if span.status_message:
        return span.status_message
    error_type = span.attributes.get("error.type")
    return str(error_type) if error_type else "error"


def _combined(span: OtelSpan) -> Mapped:
    combined = Mapped()
    for read in (read_semconv, read_openllmetry, read_openinference):
        mapped = read(span.attributes)
        combined.used.update(mapped.used)
        if combined.kind is None:
            combined.kind = mapped.kind
        for prop, value in mapped.properties.items():
            combined.properties.setdefault(prop, value)
    return combined


def span_event(span: OtelSpan) -> dict[str, Any]:
    """The raw event (as the capture endpoints receive one) of an AI span; raises `SpanRejected`."""
    if len(span.trace_id) != 32 or len(span.span_id) != 16:
        raise SpanRejected(f"span {span.name[:64]!r} has no valid trace id and span id")
    mapped = _combined(span)
    props = mapped.properties
    kind = mapped.kind or "span"
    name = _EVENTS.get(kind) or (SPAN if span.parent_span_id else TRACE)
    if name in (SPAN, TRACE):
        if "$ai_input" in props:
            props.setdefault("$ai_input_state", props.pop("$ai_input"))
        if "$ai_output_choices" in props:
            props.setdefault("$ai_output_state", props.pop("$ai_output_choices"))
    props["$ai_trace_id"] = span.trace_id
    props["$ai_span_id"] = span.span_id
    if span.parent_span_id:
        props["$ai_parent_id"] = span.parent_span_id
    props.setdefault("$ai_span_name", span.name)
    if span.end_time_unix_nano >= span.start_time_unix_nano > 0:
        props["$ai_latency"] = (span.end_time_unix_nano - span.start_time_unix_nano) / 1e9
    if span.status_code == STATUS_ERROR:
        props["$ai_is_error"] = True
        props["$ai_error"] = _error(span)
    for key, value in span.attributes.items():
        if key not in mapped.used and key not in props:
            props[key] = value
    service = span.resource.get("service.name")
    if service is not None:
        props.setdefault("service.name", service)
    if span.scope_name:
        props.setdefault("otel.scope.name", span.scope_name)
        if span.scope_version:
            props.setdefault("otel.scope.version", span.scope_version)
    event: dict[str, Any] = {
        "event": name,
        "uuid": event_uuid(span.trace_id, span.span_id),
        "distinct_id": _distinct_id(span),
        "properties": props,
    }
    timestamp = _iso(span.start_time_unix_nano)
    if timestamp is not None:
        event["timestamp"] = timestamp
    return event


def awaits_content(event: dict[str, Any]) -> bool:
    """Whether a generation came without its messages (they may follow as log events)."""
    props = event["properties"]
    return event["event"] == GENERATION and not props.get("$ai_input") and not props.get("$ai_output_choices")
