"""A real posthog-python client sends `$ai_generation` events; Assay answers with `$ai_evaluation` events."""

from __future__ import annotations

import asyncio

from posthog import Posthog

from tests.conftest import uvicorn_in_thread
from tests.online.conftest import condition, create_evaluation, evaluation_events, model_is, settle


async def test_sdk_events_are_evaluated_online(app, client, env_a, database_url, fake, monkeypatch) -> None:
    """The server runs in its own thread and event loop with its lifespan (so its scheduler) on."""
    from assay.api.app import create_app
    from tests.online.conftest import online_settings

    http, env = client, env_a
    monkeypatch.delenv("POSTHOG_CAPTURE_MODE", raising=False)
    hog = await create_evaluation(http, env, name="hog", conditions=[condition(model_is("gpt-4o-mini"))])
    await create_evaluation(http, env, name="disabled", enabled=False)
    await create_evaluation(http, env, name="other-model", conditions=[condition(model_is("claude"))])
    with uvicorn_in_thread(create_app(online_settings(database_url, fake))) as url:
        ph = Posthog(env.project_token, host=url, sync_mode=True, max_retries=0)
        props = {
            "$ai_trace_id": "sdk-trace",
            "$ai_model": "gpt-4o-mini",
            "$ai_input": [{"role": "user", "content": "hi"}],
            "$ai_output_choices": [{"role": "assistant", "content": "hello"}],
        }
        ids = [
            await asyncio.to_thread(ph.capture, "$ai_generation", distinct_id=f"sdk-{i}", properties=props)
            for i in range(3)
        ]
        await asyncio.to_thread(ph.flush)
        rows = await settle(app, expected_runs=3)
    assert {str(r.evaluator_id) for r in rows} == {hog["id"]}
    evaluated = await evaluation_events(http, env)
    assert sorted(e["properties"]["$ai_target_event_id"] for e in evaluated) == sorted(str(i) for i in ids)
    assert {e["properties"]["$ai_evaluation_result"] for e in evaluated} == {True}
