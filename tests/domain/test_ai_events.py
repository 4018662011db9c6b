"""$ai_* event catalogue, validation and the $ai_evaluation properties (§4.6, §6)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from assay.domain.ai_events import (
    AI_EVENT_NAMES,
    EVENT_PROPERTIES,
    PROPERTY_KINDS,
    JudgeUsage,
    build_evaluation_event_properties,
    inspect_ai_event,
    validate_ai_event,
)


def test_catalogue() -> None:
    assert AI_EVENT_NAMES == {
        "$ai_generation",
        "$ai_span",
        "$ai_trace",
        "$ai_embedding",
        "$ai_metric",
        "$ai_feedback",
        "$ai_evaluation",
    }
    assert set(EVENT_PROPERTIES) == AI_EVENT_NAMES
    for props in EVENT_PROPERTIES.values():
        assert set(props) <= set(PROPERTY_KINDS)
    assert {"$ai_input", "$ai_output_choices", "$ai_latency", "$ai_total_cost_usd"} <= set(
        EVENT_PROPERTIES["$ai_generation"]
    )
    assert "$ai_input_state" in EVENT_PROPERTIES["$ai_span"]


def test_valid_generation() -> None:
    props = {
        "$ai_trace_id": "trace-1_a.b@c(d)!e'f:g|h~",
        "$ai_model": "gpt-4o",
        "$ai_input": [{"role": "user", "content": "hi"}],
        "$ai_output_choices": [{"role": "assistant", "content": "yo"}],
        "$ai_input_tokens": 10,
        "$ai_output_tokens": "12",
        "$ai_latency": 0.42,
        "$ai_is_error": False,
        "custom": {"anything": True},
    }
    issues = inspect_ai_event("$ai_generation", props)
    assert issues.errors == [] and issues.warnings == []


@pytest.mark.parametrize(
    ("props", "needle"),
    [
        ({"$ai_trace_id": {"a": 1}}, "$ai_trace_id must be a string, got object"),
        ({"$ai_trace_id": True}, "$ai_trace_id must be a string, got boolean"),
        ({"$ai_trace_id": ""}, "$ai_trace_id must not be empty"),
        ({"$ai_trace_id": "x" * 256}, "256 characters long"),
        ({"$ai_trace_id": "t", "$ai_span_id": [1]}, "$ai_span_id must be a string"),
        ({"$ai_trace_id": "t", "$ai_input_tokens": "many"}, "$ai_input_tokens must be a number, got string 'many'"),
        ({"$ai_trace_id": "t", "$ai_latency": True}, "$ai_latency must be a number, got boolean"),
        ({"$ai_trace_id": "t", "$ai_total_cost_usd": [0.1]}, "$ai_total_cost_usd must be a number"),
        ({"$ai_trace_id": "t", "$ai_latency": "inf"}, "$ai_latency must be a number"),
    ],
)
def test_errors(props: dict, needle: str) -> None:
    errors = validate_ai_event("$ai_generation", props)
    assert any(needle in e for e in errors), errors


@pytest.mark.parametrize(
    ("event", "props", "needle"),
    [
        ("$ai_generation", {"$ai_trace_id": "has space"}, "characters outside"),
        ("$ai_generation", {}, "$ai_trace_id is missing"),
        ("$ai_generation", {"$ai_trace_id": "t", "$ai_input": 5}, "$ai_input should be a list of messages"),
        ("$ai_span", {"$ai_is_error": "yes"}, "$ai_is_error should be a boolean"),
        ("$ai_span", {"$ai_span_name": 3}, "$ai_span_name should be a string"),
        ("$ai_thing", {}, "unknown AI event"),
    ],
)
def test_warnings_are_tolerated(event: str, props: dict, needle: str) -> None:
    issues = inspect_ai_event(event, props)
    assert issues.errors == []
    assert any(needle in w for w in issues.warnings), issues.warnings


def test_lenient_cases() -> None:
    assert validate_ai_event("$ai_generation", {"$ai_trace_id": 123, "$ai_is_error": "true", "$ai_latency": None}) == []
    assert validate_ai_event("$pageview", {"$ai_trace_id": {"x": 1}}) == []
    assert validate_ai_event("$ai_span", None) == []


START = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
EID = UUID("0191a7a8-0000-7000-8000-000000000001")


def base(**kw: object) -> dict:
    args: dict = {
        "evaluation_id": EID,
        "evaluation_name": "Helpful",
        "runtime": "hog",
        "start_time": START,
        "allows_na": False,
        "reasoning": "looks fine",
        "target_event_id": "0191a7a8-0000-7000-8000-0000000000aa",
        "target_event_type": "$ai_generation",
        "trace_id": "trace-1",
        "result": True,
    }
    args.update(kw)
    return build_evaluation_event_properties(**args)


def test_hog_result_exact_keys() -> None:
    assert base() == {
        "$ai_evaluation_id": str(EID),
        "$ai_evaluation_name": "Helpful",
        "$ai_evaluation_type": "online",
        "$ai_evaluation_runtime": "hog",
        "$ai_evaluation_start_time": "2025-01-02T03:04:05+00:00",
        "$ai_evaluation_allows_na": False,
        "$ai_evaluation_reasoning": "looks fine",
        "$ai_target_event_id": "0191a7a8-0000-7000-8000-0000000000aa",
        "$ai_target_event_type": "$ai_generation",
        "$ai_trace_id": "trace-1",
        "$ai_evaluation_result": True,
    }


def test_allows_na_rules() -> None:
    applicable = base(allows_na=True, result=False)
    assert applicable["$ai_evaluation_result"] is False and applicable["$ai_evaluation_applicable"] is True
    na = base(allows_na=True, result=None)
    assert "$ai_evaluation_result" not in na and na["$ai_evaluation_applicable"] is False
    assert "$ai_evaluation_applicable" not in base(result=False)
    with pytest.raises(ValueError, match="required when N/A is not allowed"):
        base(result=None)
    with pytest.raises(ValueError, match="must have no verdict"):
        base(allows_na=True, applicable=False, result=True)
    with pytest.raises(ValueError, match="needs a verdict"):
        base(allows_na=True, applicable=True, result=None)


def test_judge_keys() -> None:
    judge = JudgeUsage(
        model="gpt-5-mini", provider="openai", input_tokens=120, output_tokens=30, key_type="byok", key_id="k1"
    )
    props = base(runtime="llm_judge", judge=judge, evaluation_type="offline", start_time="2025-01-01T00:00:00Z")
    assert props["$ai_evaluation_runtime"] == "llm_judge" and props["$ai_evaluation_type"] == "offline"
    assert props["$ai_evaluation_start_time"] == "2025-01-01T00:00:00Z"
    assert {k: props[k] for k in props if k.startswith(("$ai_model", "$ai_provider", "$ai_input", "$ai_output"))} == {
        "$ai_model": "gpt-5-mini",
        "$ai_provider": "openai",
        "$ai_input_tokens": 120,
        "$ai_output_tokens": 30,
    }
    assert props["$ai_evaluation_model"] == "gpt-5-mini"
    assert props["$ai_evaluation_provider"] == "openai"
    assert props["$ai_evaluation_key_type"] == "byok" and props["$ai_evaluation_key_id"] == "k1"
    hog = base()
    assert not any(k in hog for k in ("$ai_model", "$ai_input_tokens", "$ai_evaluation_key_type"))
    with pytest.raises(ValueError, match="needs the judge usage"):
        base(runtime="llm_judge")
    with pytest.raises(ValueError, match="no judge usage"):
        base(judge=judge)
    # the result event passes our own validation
    assert validate_ai_event("$ai_evaluation", props) == []
