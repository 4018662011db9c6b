"""A dataset item made from an event, as PostHog's "Add to dataset" makes it.

`ref_trace_id` is the trace id, `ref_timestamp` the trace's start (its earliest event; the event's own time when it
has no trace), `ref_source_id` the event's uuid. Input and output are the generation's `$ai_input` (else
`$ai_input_state`) and `$ai_output_choices` (else `$ai_output`, else `$ai_output_state`); like PostHog, a
non-empty object is kept as it is, a list or other value is wrapped as `{"input": …}` / `{"output": …}`, and an
empty value is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from assay.domain.messages import extract_event_io


def _as_object(value: Any, key: str) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        return dict(value) or None
    return {key: value if isinstance(value, list) else str(value)}


def item_fields_from_event(
    *,
    event_name: str,
    event_uuid: str,
    timestamp: datetime,
    properties: Mapping[str, Any],
    trace_id: str | None,
    trace_started_at: datetime | None,
) -> dict[str, Any]:
    """The dataset item's fields (input, output, metadata, ref_*) for one event."""
    input_raw, output_raw = extract_event_io(event_name, properties)
    metadata = {k: properties[k] for k in ("$ai_model", "$ai_provider") if properties.get(k) not in (None, "")}
    return {
        "input": _as_object(input_raw, "input"),
        "output": _as_object(output_raw, "output"),
        "metadata": metadata or None,
        "ref_trace_id": trace_id,
        "ref_timestamp": trace_started_at or timestamp,
        "ref_source_id": event_uuid,
    }
