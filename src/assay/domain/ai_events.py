"""The `$ai_*` events: names, documented properties, validation, and the `$ai_evaluation` result event.

Validation policy. PostHog ingests AI events leniently, and so do we: a value is only an *error*
(the event is rejected) when storing it would break evaluation, traces or aggregates:

- `$ai_trace_id`, `$ai_span_id`, `$ai_parent_id`, `$ai_session_id` that are not a string or an
  integer, are empty, or are longer than 255 characters (traces are grouped and addressed by them;
  dataset items keep them in 255-character fields);
- numeric properties (tokens, latency, costs …) that are neither numbers nor numeric strings
  (they are summed into run summaries and costs).

Everything else is a *warning* (tolerated, reported): a trace id with characters outside the
documented set, a `$ai_generation` without a trace id, messages that are neither a list, a string
nor an object (they are rendered with `str()`), non-boolean flags, non-string names, an unknown
`$ai_*` event name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

GENERATION = "$ai_generation"
SPAN = "$ai_span"
TRACE = "$ai_trace"
EMBEDDING = "$ai_embedding"
METRIC = "$ai_metric"
FEEDBACK = "$ai_feedback"
EVALUATION = "$ai_evaluation"

AI_EVENT_NAMES: frozenset[str] = frozenset({GENERATION, SPAN, TRACE, EMBEDDING, METRIC, FEEDBACK, EVALUATION})

PropertyKind = Literal["id", "string", "number", "boolean", "messages", "json"]

PROPERTY_KINDS: dict[str, PropertyKind] = {
    # identity
    "$ai_trace_id": "id",
    "$ai_session_id": "id",
    "$ai_span_id": "id",
    "$ai_parent_id": "id",
    "$ai_span_name": "string",
    # model
    "$ai_model": "string",
    "$ai_provider": "string",
    "$ai_framework": "string",
    # content
    "$ai_input": "messages",
    "$ai_output_choices": "messages",
    "$ai_output": "messages",
    "$ai_input_state": "json",
    "$ai_output_state": "json",
    # usage
    "$ai_input_tokens": "number",
    "$ai_output_tokens": "number",
    "$ai_total_tokens": "number",
    "$ai_cache_read_input_tokens": "number",
    "$ai_cache_creation_input_tokens": "number",
    "$ai_reasoning_tokens": "number",
    "$ai_latency": "number",
    "$ai_time_to_first_token": "number",
    "$ai_http_status": "number",
    "$ai_base_url": "string",
    "$ai_request_url": "string",
    # errors
    "$ai_is_error": "boolean",
    "$ai_error": "json",
    "$ai_error_type": "string",
    # cost
    "$ai_input_cost_usd": "number",
    "$ai_output_cost_usd": "number",
    "$ai_total_cost_usd": "number",
    # parameters
    "$ai_temperature": "number",
    "$ai_stream": "boolean",
    "$ai_max_tokens": "number",
    "$ai_model_parameters": "json",
    "$ai_tools": "json",
    # metric / feedback
    "$ai_metric_name": "string",
    "$ai_metric_value": "json",
    "$ai_feedback_text": "string",
    # evaluation result
    "$ai_evaluation_id": "id",
    "$ai_evaluation_name": "string",
    "$ai_evaluation_type": "string",
    "$ai_evaluation_runtime": "string",
    "$ai_evaluation_start_time": "string",
    "$ai_evaluation_allows_na": "boolean",
    "$ai_evaluation_reasoning": "string",
    "$ai_evaluation_result": "boolean",
    "$ai_evaluation_applicable": "boolean",
    "$ai_evaluation_model": "string",
    "$ai_evaluation_provider": "string",
    "$ai_evaluation_key_type": "string",
    "$ai_evaluation_key_id": "id",
    "$ai_target_event_id": "id",
    "$ai_target_event_type": "string",
}

_IDENTITY = ("$ai_trace_id", "$ai_session_id", "$ai_span_id", "$ai_span_name", "$ai_parent_id")
_ERRORS = ("$ai_is_error", "$ai_error")
_COSTS = ("$ai_input_cost_usd", "$ai_output_cost_usd", "$ai_total_cost_usd")

EVENT_PROPERTIES: dict[str, tuple[str, ...]] = {
    GENERATION: (
        *_IDENTITY,
        "$ai_model",
        "$ai_provider",
        "$ai_input",
        "$ai_output_choices",
        "$ai_output",
        "$ai_input_tokens",
        "$ai_output_tokens",
        "$ai_latency",
        "$ai_time_to_first_token",
        "$ai_http_status",
        "$ai_base_url",
        "$ai_request_url",
        *_ERRORS,
        *_COSTS,
        "$ai_cache_read_input_tokens",
        "$ai_cache_creation_input_tokens",
        "$ai_reasoning_tokens",
        "$ai_temperature",
        "$ai_stream",
        "$ai_max_tokens",
        "$ai_model_parameters",
        "$ai_tools",
        "$ai_total_tokens",
        "$ai_framework",
        "$ai_error_type",
    ),
    SPAN: (*_IDENTITY, "$ai_input_state", "$ai_output_state", "$ai_latency", *_ERRORS),
    TRACE: (
        "$ai_trace_id",
        "$ai_session_id",
        "$ai_input_state",
        "$ai_output_state",
        "$ai_latency",
        "$ai_span_name",
        *_ERRORS,
    ),
    EMBEDDING: (
        *_IDENTITY,
        "$ai_model",
        "$ai_provider",
        "$ai_input",
        "$ai_input_tokens",
        "$ai_latency",
        "$ai_http_status",
        "$ai_base_url",
        *_ERRORS,
        *_COSTS,
    ),
    METRIC: ("$ai_trace_id", "$ai_metric_name", "$ai_metric_value"),
    FEEDBACK: ("$ai_trace_id", "$ai_feedback_text"),
    EVALUATION: tuple(k for k in PROPERTY_KINDS if k.startswith(("$ai_evaluation", "$ai_target_")))
    + ("$ai_trace_id", "$ai_model", "$ai_provider", "$ai_input_tokens", "$ai_output_tokens"),
}
"""The documented properties of each AI event (others are allowed and kept)."""

REQUIRED_PROPERTIES: dict[str, tuple[str, ...]] = {GENERATION: ("$ai_trace_id",)}
"""Documented as required; their absence is tolerated with a warning."""

TRACE_ID_PATTERN = re.compile(r"^[A-Za-z0-9\-_~.@()!':|]+$")
"""The characters PostHog documents for `$ai_trace_id`."""

MAX_ID_LENGTH = 255

_NUMERIC_STRING = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


@dataclass(slots=True)
class AiEventIssues:
    """What is wrong with an AI event: errors reject it, warnings are tolerated."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _is_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    if isinstance(v, float):
        return math.isfinite(v)
    return isinstance(v, str) and bool(_NUMERIC_STRING.match(v)) and math.isfinite(float(v))


def _type_name(v: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(v), type(v).__name__
    )


def inspect_ai_event(event_name: str, properties: Mapping[str, Any] | None) -> AiEventIssues:
    """Errors and warnings for an event; non-`$ai_` events have none."""
    issues = AiEventIssues()
    if not event_name.startswith("$ai_"):
        return issues
    props = properties or {}
    if event_name not in AI_EVENT_NAMES:
        issues.warnings.append(f"unknown AI event {event_name!r}")
    for key in REQUIRED_PROPERTIES.get(event_name, ()):
        if props.get(key) is None:
            issues.warnings.append(f"{key} is missing (documented as required for {event_name})")
    for key, value in props.items():
        kind = PROPERTY_KINDS.get(key)
        if kind is None or value is None:
            continue
        if kind == "id":
            if isinstance(value, bool) or not isinstance(value, str | int):
                issues.errors.append(f"{key} must be a string, got {_type_name(value)}")
                continue
            text = str(value)
            if not text.strip():
                issues.errors.append(f"{key} must not be empty")
            elif len(text) > MAX_ID_LENGTH:
                issues.errors.append(f"{key} is {len(text)} characters long; the limit is {MAX_ID_LENGTH}")
            elif key == "$ai_trace_id" and not TRACE_ID_PATTERN.match(text):
                issues.warnings.append(
                    f"$ai_trace_id {text[:60]!r} has characters outside letters, digits and - _ ~ . @ ( ) ! ' : |"
                )
        elif kind == "number":
            if not _is_number(value):
                issues.errors.append(f"{key} must be a number, got {_type_name(value)} {str(value)[:40]!r}")
        elif kind == "boolean":
            if not isinstance(value, bool) and not (isinstance(value, str) and value.lower() in ("true", "false")):
                issues.warnings.append(f"{key} should be a boolean, got {_type_name(value)}")
        elif kind == "string":
            if not isinstance(value, str):
                issues.warnings.append(f"{key} should be a string, got {_type_name(value)}")
        elif kind == "messages":
            if not isinstance(value, list | str | dict):
                issues.warnings.append(f"{key} should be a list of messages or a string, got {_type_name(value)}")
    return issues


def validate_ai_event(event_name: str, properties: Mapping[str, Any] | None) -> list[str]:
    """The problems that reject an AI event (empty when it is acceptable); see the module doc."""
    return inspect_ai_event(event_name, properties).errors


@dataclass(frozen=True, slots=True)
class JudgeUsage:
    """The judge model call behind an `llm_judge` result, for cost attribution."""

    model: str
    provider: str
    input_tokens: int
    output_tokens: int
    key_type: Literal["byok", "posthog"] = "posthog"
    key_id: str | None = None


def build_evaluation_event_properties(
    *,
    evaluation_id: str | UUID,
    evaluation_name: str,
    runtime: Literal["llm_judge", "hog", "python"],
    start_time: datetime | str,
    allows_na: bool,
    reasoning: str,
    target_event_id: str | UUID,
    target_event_type: str,
    trace_id: str | None,
    result: bool | None,
    applicable: bool | None = None,
    evaluation_type: str = "online",
    judge: JudgeUsage | None = None,
) -> dict[str, Any]:
    """The properties of the `$ai_evaluation` event for one run (PostHog's shape).

    `$ai_evaluation_result` is present unless N/A is allowed and the case was not applicable;
    `$ai_evaluation_applicable` only when N/A is allowed (defaulting to `result is not None`).
    The judge usage keys appear only for the `llm_judge` runtime, which requires `judge`.
    """
    if runtime not in ("llm_judge", "hog", "python"):
        raise ValueError(f"unknown evaluation runtime {runtime!r}")
    if runtime == "llm_judge" and judge is None:
        raise ValueError("an llm_judge result needs the judge usage")
    if runtime != "llm_judge" and judge is not None:
        raise ValueError(f"a {runtime} result has no judge usage")
    if allows_na:
        if applicable is None:
            applicable = result is not None
        if applicable and result is None:
            raise ValueError("an applicable result needs a verdict")
        if not applicable and result is not None:
            raise ValueError("a not-applicable result must have no verdict")
    elif result is None:
        raise ValueError("a verdict is required when N/A is not allowed")

    props: dict[str, Any] = {
        "$ai_evaluation_id": str(evaluation_id),
        "$ai_evaluation_name": evaluation_name,
        "$ai_evaluation_type": evaluation_type,
        "$ai_evaluation_runtime": runtime,
        "$ai_evaluation_start_time": start_time.isoformat() if isinstance(start_time, datetime) else start_time,
        "$ai_evaluation_allows_na": allows_na,
        "$ai_evaluation_reasoning": reasoning,
        "$ai_target_event_id": str(target_event_id),
        "$ai_target_event_type": target_event_type,
        "$ai_trace_id": trace_id,
    }
    if not allows_na or applicable:
        props["$ai_evaluation_result"] = result
    if allows_na:
        props["$ai_evaluation_applicable"] = applicable
    if judge is not None:
        props.update(
            {
                "$ai_model": judge.model,
                "$ai_provider": judge.provider,
                "$ai_input_tokens": judge.input_tokens,
                "$ai_output_tokens": judge.output_tokens,
                "$ai_evaluation_model": judge.model,
                "$ai_evaluation_provider": judge.provider,
                "$ai_evaluation_key_type": judge.key_type,
                "$ai_evaluation_key_id": judge.key_id,
            }
        )
    return props
