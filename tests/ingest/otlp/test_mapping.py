"""The pure mapping modules on values the recorded payloads do not hold."""

from __future__ import annotations

from assay.ingest.otlp.messages import messages_from_parts, system_message
from assay.ingest.otlp.records import OtelSpan
from assay.ingest.otlp.spans import event_uuid, is_ai_span, span_event


def test_message_parts_tool_results_reasoning_and_pass_through() -> None:
    messages = messages_from_parts(
        [
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": {"t": 21}}]},
            {
                "role": "assistant",
                "parts": [{"type": "reasoning", "content": "think"}, {"type": "text", "content": "21 degrees"}],
            },
            {"role": "user", "content": "already PostHog-shaped"},
            "plain text",
        ]
    )
    assert messages == [
        {"role": "tool", "tool_call_id": "call_1", "content": '{"t":21}'},
        {
            "role": "assistant",
            "content": [{"type": "reasoning", "text": "think"}, {"type": "text", "text": "21 degrees"}],
        },
        {"role": "user", "content": "already PostHog-shaped"},
        {"role": "user", "content": "plain text"},
    ]
    assert messages_from_parts("not json") is None
    assert system_message("Be brief.") == {"role": "system", "content": "Be brief."}
    assert system_message([]) is None


def _span(**attributes: object) -> OtelSpan:
    return OtelSpan(
        trace_id="ab" * 16,
        span_id="cd" * 8,
        parent_span_id="ef" * 8,
        name="work",
        kind=1,
        start_time_unix_nano=0,
        end_time_unix_nano=0,
        attributes=dict(attributes),
    )


def test_kinds_ids_and_skipped_spans() -> None:
    assert not is_ai_span(_span(**{"http.method": "GET"}))
    event = span_event(_span(**{"llm.request.type": "embedding", "gen_ai.request.model": "e"}))
    assert event["event"] == "$ai_embedding" and event["uuid"] == event_uuid("ab" * 16, "cd" * 8)
    assert "timestamp" not in event and "$ai_latency" not in event["properties"]  # no times: the time received
    child = span_event(_span(**{"openinference.span.kind": "TOOL", "input.value": "q"}))
    assert child["event"] == "$ai_span" and child["properties"]["$ai_input_state"] == "q"
    assert span_event(_span(**{"gen_ai.operation.name": "chat", "posthog.distinct_id": 42}))["distinct_id"] == "42"
