"""A real posthog-python client sends `$ai_generation` events; Assay answers with `$ai_evaluation` events."""

from __future__ import annotations

import asyncio

from posthog import Posthog

from tests.api.test_capture import _free_port  # noqa: F401  (shared helper)
from tests.online.conftest import condition, create_evaluation, evaluation_events, model_is, settle


async def test_sdk_events_are_evaluated_online(app, client, env_a, database_url, fake, monkeypatch) -> None:
    """The server runs in its own thread and event loop with its lifespan (so its scheduler) on."""
    import threading
    import time

    import uvicorn

    from assay.api.app import create_app
    from tests.online.conftest import online_settings

    http, env = client, env_a
    monkeypatch.delenv("POSTHOG_CAPTURE_MODE", raising=False)
    hog = await create_evaluation(http, env, name="hog", conditions=[condition(model_is("gpt-4o-mini"))])
    await create_evaluation(http, env, name="disabled", enabled=False)
    await create_evaluation(http, env, name="other-model", conditions=[condition(model_is("claude"))])
    port = _free_port()
    live = create_app(online_settings(database_url, fake))
    server = uvicorn.Server(uvicorn.Config(live, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        ph = Posthog(env.project_token, host=f"http://127.0.0.1:{port}", sync_mode=True, max_retries=0)
        props = {"$ai_trace_id": "sdk-trace", "$ai_model": "gpt-4o-mini",
                 "$ai_input": [{"role": "user", "content": "hi"}],
                 "$ai_output_choices": [{"role": "assistant", "content": "hello"}]}  # fmt: skip
        ids = [await asyncio.to_thread(ph.capture, "$ai_generation", distinct_id=f"sdk-{i}", properties=props)
               for i in range(3)]  # fmt: skip
        await asyncio.to_thread(ph.flush)
        rows = await settle(app, expected_runs=3)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
    assert {str(r.evaluator_id) for r in rows} == {hog["id"]}
    evaluated = await evaluation_events(http, env)
    assert sorted(e["properties"]["$ai_target_event_id"] for e in evaluated) == sorted(str(i) for i in ids)
    assert {e["properties"]["$ai_evaluation_result"] for e in evaluated} == {True}
