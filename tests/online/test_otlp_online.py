"""`posthog.ai.otel`'s span processor exports to a running Assay; an online Hog evaluation fires on the generation."""

from __future__ import annotations

import asyncio
import json

import posthog
import pytest
from opentelemetry.sdk.trace import TracerProvider
from posthog.ai.otel import PostHogSpanProcessor

from tests.conftest import uvicorn_in_thread
from tests.online.conftest import condition, create_evaluation, evaluation_events, model_is, settle


def _export_with_posthog_processor(url: str, token: str) -> str:
    provider = TracerProvider()
    processor = PostHogSpanProcessor(api_key=token, host=url)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("chat-app")
    with posthog.new_context(fresh=True):
        posthog.identify_context("otel-user")
        posthog.tag("plan", "pro")
        with tracer.start_as_current_span("handle request"):  # not an AI span: the processor drops it
            with tracer.start_as_current_span("chat gpt-4o-mini") as span:
                span.set_attributes(
                    {
                        "gen_ai.operation.name": "chat",
                        "gen_ai.provider.name": "openai",
                        "gen_ai.request.model": "gpt-4o-mini",
                        "gen_ai.usage.input_tokens": 12,
                        "gen_ai.usage.output_tokens": 3,
                        "gen_ai.input.messages": json.dumps(
                            [{"role": "user", "parts": [{"type": "text", "content": "Capital of Italy?"}]}]
                        ),
                        "gen_ai.output.messages": json.dumps(
                            [{"role": "assistant", "parts": [{"type": "text", "content": "Rome"}]}]
                        ),
                    }
                )
                trace_id = format(span.get_span_context().trace_id, "032x")
    assert processor.force_flush(10_000)
    provider.shutdown()
    return trace_id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_posthog_otel_generation_is_evaluated_online(app, client, env_a, database_url, fake) -> None:  # noqa: ANN001
    from assay.api.app import create_app
    from tests.online.conftest import online_settings

    hog = await create_evaluation(
        client,
        env_a,
        name="answers",
        evaluation_config={"source": "return output like '%Rome%' and input like '%Capital of Italy?%'"},
        conditions=[condition(model_is("gpt-4o-mini"))],
    )
    with uvicorn_in_thread(create_app(online_settings(database_url, fake))) as url:
        trace_id = await asyncio.to_thread(_export_with_posthog_processor, url, env_a.project_token)
        rows = await settle(app, expected_runs=1)
    assert [str(r.evaluator_id) for r in rows] == [hog["id"]]
    r = await client.get(f"{env_a.api}/events", params={"event": "$ai_generation"}, headers=env_a.headers)
    [generation] = r.json()["results"]
    assert generation["distinct_id"] == "otel-user"
    props = generation["properties"]
    assert props["$ai_trace_id"] == trace_id and props["plan"] == "pro"
    assert props["$ai_output_choices"] == [{"role": "assistant", "content": "Rome"}]
    [evaluation] = await evaluation_events(client, env_a)
    assert evaluation["properties"]["$ai_target_event_id"] == generation["uuid"]
    assert evaluation["properties"]["$ai_evaluation_result"] is True
    assert evaluation["properties"]["$ai_trace_id"] == trace_id
