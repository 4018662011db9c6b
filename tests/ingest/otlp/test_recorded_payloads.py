"""One recorded payload per dialect, sent to `/v1/traces` (and `/v1/logs`) as OTLP JSON: the stored `$ai_*` events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assay.services.otlp_ingestion import sweep_expired
from assay.storage.types import utcnow
from tests.ingest.otlp.helpers import by_span, export, payload, stored

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@sqlite_only
async def test_current_semantic_conventions(client, env_a) -> None:  # noqa: ANN001
    assert await export(client, env_a, "traces", payload("semconv")["traces"]) == {}
    events = by_span(await stored(client, env_a))
    root, chat, tool, embedding = (events[f"a00000000000000{i}"] for i in range(1, 5))
    trace_id = "5b8efff798038103d269b633813fc60c"

    assert root["event"] == "$ai_trace" and root["distinct_id"] == "traveller-7"
    assert root["properties"]["$ai_trace_id"] == trace_id and "$ai_parent_id" not in root["properties"]
    assert root["properties"]["$ai_session_id"] == "conv-42"
    assert root["properties"]["$ai_latency"] == pytest.approx(3.5)
    assert root["properties"]["gen_ai.agent.name"] == "planner"  # unmapped attributes are kept
    assert root["properties"]["service.name"] == "travel-agent"

    assert chat["event"] == "$ai_generation"
    assert chat["distinct_id"] == trace_id  # no user attribute on this span: the trace id
    p = chat["properties"]
    assert (p["$ai_trace_id"], p["$ai_span_id"], p["$ai_parent_id"]) == (
        trace_id,
        "a000000000000002",
        root["properties"]["$ai_span_id"],
    )
    assert p["$ai_model"] == "gpt-4o-2024-08-06" and p["$ai_provider"] == "openai"
    assert (p["$ai_input_tokens"], p["$ai_output_tokens"]) == (57, 12)
    assert p["$ai_temperature"] == 0.3 and p["$ai_max_tokens"] == 256
    assert p["$ai_latency"] == pytest.approx(1.25)
    assert p["$ai_input"] == [
        {"role": "system", "content": "You plan trips."},
        {"role": "user", "content": "Weather in Paris?"},
    ]
    assert p["$ai_output_choices"] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        }
    ]
    assert p["$ai_tools"] == [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]
    assert p["gen_ai.response.finish_reasons"] == ["tool_calls"]
    assert "gen_ai.input.messages" not in p and p["otel.scope.name"] == "travel.agent"
    assert chat["timestamp"].startswith("2025-12-01T10:00:00.1")

    assert tool["event"] == "$ai_span"
    assert tool["properties"]["$ai_is_error"] is True
    assert tool["properties"]["$ai_error"] == "weather service unavailable"
    assert tool["properties"]["$ai_input_state"] == {"city": "Paris"}
    assert tool["properties"]["$ai_span_name"] == "execute_tool get_weather"

    assert embedding["event"] == "$ai_embedding"
    assert embedding["properties"]["$ai_model"] == "text-embedding-3-small"
    assert embedding["properties"]["$ai_input_tokens"] == 8


@sqlite_only
async def test_openllmetry_indexed_attributes(client, env_a) -> None:  # noqa: ANN001
    await export(client, env_a, "traces", payload("openllmetry_indexed")["traces"])
    events = by_span(await stored(client, env_a))
    workflow, chat = events["b000000000000001"], events["b000000000000002"]
    assert workflow["event"] == "$ai_trace"
    assert workflow["properties"]["$ai_input_state"] == {"args": ["My order is late"], "kwargs": {}}
    assert workflow["properties"]["$ai_output_state"] == "Sorry! It ships tomorrow."
    p = chat["properties"]
    assert chat["event"] == "$ai_generation" and p["$ai_parent_id"] == "b000000000000001"
    assert p["$ai_model"] == "gpt-4o-mini-2024-07-18" and p["$ai_provider"] == "OpenAI"
    assert (p["$ai_input_tokens"], p["$ai_output_tokens"], p["$ai_total_tokens"]) == (31, 9, 40)
    assert p["$ai_stream"] is False and p["$ai_temperature"] == 0.0
    assert p["$ai_input"] == [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": "My order is late"},
    ]
    assert p["$ai_output_choices"] == [
        {
            "role": "assistant",
            "content": "Sorry! It ships tomorrow.",
            "tool_calls": [
                {"id": "call_9", "type": "function", "function": {"name": "lookup_order", "arguments": '{"id": 5}'}}
            ],
        }
    ]
    assert p["$ai_tools"][0]["function"] == {
        "name": "lookup_order",
        "description": "Find an order",
        "parameters": {"type": "object"},
    }
    assert not any(k.startswith(("gen_ai.prompt.", "gen_ai.completion.")) for k in p)


@sqlite_only
async def test_openinference_attributes(client, env_a) -> None:  # noqa: ANN001
    await export(client, env_a, "traces", payload("openinference")["traces"])
    events = by_span(await stored(client, env_a))
    chain, llm = events["c000000000000001"], events["c000000000000002"]
    assert chain["event"] == "$ai_trace" and chain["distinct_id"] == "reader-1"
    assert chain["properties"]["$ai_input_state"] == {"question": "What is OTLP?"}
    assert chain["properties"]["$ai_output_state"] == "A protocol."
    assert chain["properties"]["$ai_session_id"] == "sess-3"
    p = llm["properties"]
    assert llm["event"] == "$ai_generation" and llm["distinct_id"] == "reader-1"
    assert p["$ai_model"] == "gpt-4.1-mini" and p["$ai_provider"] == "openai"
    assert (p["$ai_input_tokens"], p["$ai_output_tokens"], p["$ai_total_tokens"]) == (20, 3, 23)
    assert p["$ai_temperature"] == 0.7 and p["$ai_max_tokens"] == 100
    assert p["$ai_model_parameters"] == {"temperature": 0.7, "max_tokens": 100}
    assert p["$ai_input"] == [
        {"role": "system", "content": "Use the context."},
        {"role": "user", "content": [{"type": "text", "text": "What is OTLP?"}]},
    ]
    assert p["$ai_output_choices"] == [{"role": "assistant", "content": "A protocol."}]
    assert p["$ai_tools"] == [{"type": "function", "function": {"name": "search"}}]


@pytest.mark.parametrize("logs_first", [False, True])
async def test_details_log_event_joins_its_span_in_either_order(client, env_a, logs_first: bool) -> None:  # noqa: ANN001
    recorded = payload("log_details")
    first, second = ("logs", "traces") if logs_first else ("traces", "logs")
    await export(client, env_a, first, recorded[first])
    assert await stored(client, env_a, "$ai_generation") == []  # waiting for its other half
    await export(client, env_a, second, recorded[second])
    [generation] = await stored(client, env_a, "$ai_generation")
    p = generation["properties"]
    assert p["$ai_input"] == [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "2+2?"}]
    assert p["$ai_output_choices"] == [{"role": "assistant", "content": "4"}]
    assert (p["$ai_input_tokens"], p["$ai_output_tokens"]) == (14, 2)
    # a retried export stores nothing twice
    await export(client, env_a, "traces", recorded["traces"])
    assert len(await stored(client, env_a, "$ai_generation")) == 1


@sqlite_only
async def test_per_message_log_events_in_two_batches(client, env_a) -> None:  # noqa: ANN001
    recorded = payload("log_messages")
    records = recorded["logs"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    inputs, rest = dict(recorded["logs"]), records[2:]
    recorded["logs"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"] = records[:2]
    await export(client, env_a, "logs", inputs)  # the input messages, before the span
    await export(client, env_a, "traces", recorded["traces"])
    assert await stored(client, env_a, "$ai_generation") == []  # no answer yet: the span waits
    recorded["logs"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"] = rest
    assert await export(client, env_a, "logs", recorded["logs"]) == {}  # a non-GenAI log is skipped, not refused
    [generation] = await stored(client, env_a, "$ai_generation")
    assert generation["properties"]["$ai_input"] == [
        {"role": "system", "content": "Reply with one word."},
        {"role": "user", "content": "Colour of the sky?"},
    ]
    assert generation["properties"]["$ai_output_choices"] == [{"role": "assistant", "content": "Blue"}]


async def test_a_span_whose_logs_never_come_is_stored_after_the_wait(app, client, env_a) -> None:  # noqa: ANN001
    await export(client, env_a, "traces", payload("log_details")["traces"])
    assert await stored(client, env_a, "$ai_generation") == []
    async with app.state.sessionmaker() as session:
        assert await sweep_expired(session=session) == 0  # not yet
        later = utcnow() + timedelta(seconds=app.state.settings.otlp_log_wait_seconds + 1)
        assert await sweep_expired(session=session, now=later) == 1
    [generation] = await stored(client, env_a, "$ai_generation")
    assert "$ai_input" not in generation["properties"] and generation["properties"]["$ai_model"] == "gpt-4o-mini"
