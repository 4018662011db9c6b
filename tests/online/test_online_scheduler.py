"""Online evaluation end to end: events in, `$ai_evaluation` events out, each pair at most once."""

from __future__ import annotations

import asyncio
import hashlib

from sqlalchemy import func, select

from assay.api.app import create_app
from assay.ingest.triggers import in_rollout, should_trigger
from assay.storage.online_tables import EvaluationRunRow
from tests.online.conftest import (
    JUDGE_MODEL,
    condition,
    create_evaluation,
    evaluation_events,
    generation_event,
    model_is,
    online_settings,
    runs,
    send,
    settle,
)

HOG_KEYS = {
    "$ai_evaluation_id",
    "$ai_evaluation_name",
    "$ai_evaluation_type",
    "$ai_evaluation_runtime",
    "$ai_evaluation_start_time",
    "$ai_evaluation_allows_na",
    "$ai_evaluation_reasoning",
    "$ai_target_event_id",
    "$ai_target_event_type",
    "$ai_trace_id",
    "$ai_evaluation_result",
}
JUDGE_KEYS = HOG_KEYS | {
    "$ai_model",
    "$ai_provider",
    "$ai_input_tokens",
    "$ai_output_tokens",
    "$ai_evaluation_model",
    "$ai_evaluation_provider",
    "$ai_evaluation_key_type",
    "$ai_evaluation_key_id",
}


async def test_hog_evaluation_emits_the_exact_event(http, env, running_app) -> None:
    evaluation = await create_evaluation(http, env)
    target = generation_event("user-7")
    await send(http, env, [target])
    await settle(running_app, expected_runs=1)
    [ev] = await evaluation_events(http, env)
    props = ev["properties"]
    assert set(props) == HOG_KEYS
    assert props["$ai_evaluation_id"] == evaluation["id"]
    assert props["$ai_evaluation_name"] == "hog-eval"
    assert props["$ai_evaluation_type"] == "online"
    assert props["$ai_evaluation_runtime"] == "hog"
    assert props["$ai_evaluation_allows_na"] is False
    assert props["$ai_evaluation_reasoning"] == "checked"
    assert props["$ai_evaluation_result"] is True
    assert props["$ai_target_event_id"] == target["uuid"]
    assert props["$ai_target_event_type"] == "$ai_generation"
    assert props["$ai_trace_id"] == target["properties"]["$ai_trace_id"]
    assert ev["distinct_id"] == "user-7" and ev["trace_id"] == props["$ai_trace_id"]
    [run] = await runs(running_app)
    assert run.status == "completed" and run.source == "online"
    assert run.result == {"verdict": True, "reasoning": "checked"}


async def test_hog_not_applicable(http, env, running_app) -> None:
    await create_evaluation(http, env, evaluation_config={"source": "return null"}, output_config={"allows_na": True})
    await send(http, env, [generation_event()])
    await settle(running_app, expected_runs=1)
    [ev] = await evaluation_events(http, env)
    assert ev["properties"]["$ai_evaluation_applicable"] is False
    assert "$ai_evaluation_result" not in ev["properties"]


async def test_judge_evaluation_emits_the_exact_event(http, env, running_app, fake) -> None:
    fake.set_scenario({"rules": [{"json": {"verdict": True, "reasoning": "Correct."}}]})
    evaluation = await create_evaluation(
        http, env, name="judge", evaluation_type="llm_judge", evaluation_config={"prompt": "Is it correct?"}
    )
    target = generation_event("user-9")
    await send(http, env, [target])
    await settle(running_app, expected_runs=1)
    [ev] = await evaluation_events(http, env)
    props = ev["properties"]
    assert set(props) == JUDGE_KEYS
    assert props["$ai_evaluation_id"] == evaluation["id"]
    assert props["$ai_evaluation_runtime"] == "llm_judge"
    assert props["$ai_evaluation_result"] is True and props["$ai_evaluation_reasoning"] == "Correct."
    assert props["$ai_model"] == props["$ai_evaluation_model"] == JUDGE_MODEL
    assert props["$ai_provider"] == "openai" and props["$ai_evaluation_key_type"] == "posthog"
    assert props["$ai_evaluation_key_id"] is None
    assert props["$ai_input_tokens"] > 0
    [request] = [r for r in fake.requests() if r.get("path", "").endswith("/chat/completions")] or [None]
    assert request is None or "Input: user: What is 2+2?" in str(request)


async def test_hog_runtime_error_fails_without_event(http, env, running_app) -> None:
    await create_evaluation(http, env, evaluation_config={"source": "return 1"})
    await send(http, env, [generation_event()])
    [run] = await settle(running_app, expected_runs=1)
    assert run.status == "failed" and run.error.startswith("Hog evaluation error: Must return boolean")
    assert await evaluation_events(http, env) == []


async def test_judge_parse_error_is_skipped_without_event(http, env, running_app, fake) -> None:
    fake.set_scenario({"rules": [{"reply": "not json at all"}], "json_schema_supported": False})
    await create_evaluation(  # a prompt of its own: judge answers are cached by content
        http, env, name="judge", evaluation_type="llm_judge", evaluation_config={"prompt": "Parse-error case?"}
    )
    await send(http, env, [generation_event()])
    [run] = await settle(running_app, expected_runs=1)
    assert run.status == "skipped", (run.status, run.error)
    assert run.result["skip_reason"] == "parse_error" and run.result["skipped"] is True
    assert await evaluation_events(http, env) == []


async def test_conditions_or_and_and_never_fire_cases(http, env, running_app) -> None:
    gpt4 = await create_evaluation(
        http, env, name="or", conditions=[condition(model_is("gpt-4")), condition(model_is("claude"))]
    )
    both = await create_evaluation(
        http,
        env,
        name="and",
        conditions=[
            condition(model_is("gpt-4"), {"key": "$ai_trace_id", "value": "t-1", "operator": "exact", "type": "event"})
        ],
    )
    await create_evaluation(http, env, name="none", conditions=[])
    await create_evaluation(http, env, name="disabled", enabled=False)
    deleted = await create_evaluation(http, env, name="deleted")
    r = await http.patch(f"{env.api}/evaluations/{deleted['id']}", json={"deleted": True}, headers=env.headers)
    assert r.status_code == 200
    events = [
        generation_event(model="gpt-4", **{"$ai_trace_id": "t-1"}),
        generation_event(model="gpt-4", **{"$ai_trace_id": "t-2"}),
        generation_event(model="claude"),
        generation_event(model="other"),
    ]
    await send(http, env, events)
    rows = await settle(running_app, expected_runs=4)
    pairs = {(str(r.evaluator_id), str(r.event_uuid)) for r in rows}
    assert pairs == {
        (gpt4["id"], events[0]["uuid"]),
        (gpt4["id"], events[1]["uuid"]),
        (gpt4["id"], events[2]["uuid"]),
        (both["id"], events[0]["uuid"]),
    }
    assert len(await evaluation_events(http, env)) == 4


async def test_non_generation_events_are_not_evaluated(http, env, running_app) -> None:
    await create_evaluation(http, env)
    span = {**generation_event(), "event": "$ai_span"}
    await send(http, env, [span])
    await asyncio.sleep(0.5)
    assert await runs(running_app) == []


def test_sampling_is_deterministic_md5_of_distinct_id() -> None:
    for i in range(200):
        key = f"user-{i}"
        expected = int(hashlib.md5(key.encode()).hexdigest()[:8], 16) % 10000 / 100 < 30
        assert in_rollout(key, 30) is expected is in_rollout(key, 30)
    hits = sum(in_rollout(f"id-{i}", 10) for i in range(20_000))
    assert 1800 < hits < 2200
    assert all(in_rollout(f"id-{i}", 100) for i in range(100))
    assert not any(in_rollout(f"id-{i}", 0) for i in range(100))
    assert in_rollout("x", 100.0) and in_rollout("x", 150)


def test_missing_rollout_counts_as_100_and_no_bytecode_is_skipped() -> None:
    from assay.hog import compile_property_filters

    always = {"bytecode": compile_property_filters([])}
    assert should_trigger([always], "$ai_generation", "u", {})
    assert not should_trigger([], "$ai_generation", "u", {})
    assert not should_trigger([{"bytecode": None, "bytecode_error": "bad"}], "$ai_generation", "u", {})


async def test_sampled_evaluation_fires_for_the_same_users(http, env, running_app) -> None:
    await create_evaluation(http, env, conditions=[condition(rollout=50)])
    users = [f"user-{i}" for i in range(40)]
    await send(http, env, [generation_event(u) for u in users] + [generation_event(u) for u in users])
    rows = await settle(running_app)
    expected = {u for u in users if in_rollout(u, 50)}
    evaluated = {e["distinct_id"] for e in await evaluation_events(http, env)}
    assert evaluated == expected and len(rows) == 2 * len(expected)


async def test_concurrent_overlapping_batches_evaluate_each_pair_once(http, env, running_app) -> None:
    await create_evaluation(http, env)
    await create_evaluation(http, env, name="second")
    events = [generation_event(f"u-{i}") for i in range(60)]
    await asyncio.gather(send(http, env, events[:40]), send(http, env, events[20:]), send(http, env, events[10:50]))
    rows = await settle(running_app, expected_runs=120)
    assert len(rows) == 120 and all(r.status == "completed" for r in rows)
    evaluated = await evaluation_events(http, env)
    keys = [(e["properties"]["$ai_evaluation_id"], e["properties"]["$ai_target_event_id"]) for e in evaluated]
    assert len(keys) == len(set(keys)) == 120


async def test_two_schedulers_on_one_database(database_url, fake, http, env, running_app) -> None:
    second = create_app(online_settings(database_url, fake))
    async with second.router.lifespan_context(second):
        await create_evaluation(http, env)
        for i in range(5):
            await send(http, env, [generation_event(f"u-{i}-{j}") for j in range(30)])
            second.state.online.notify()
        rows = await settle(running_app, expected_runs=150)
    assert len(rows) == 150
    evaluated = await evaluation_events(http, env)
    assert sorted(e["properties"]["$ai_target_event_id"] for e in evaluated) == sorted(str(r.event_uuid) for r in rows)
    assert len(evaluated) == 150


async def test_restart_between_acceptance_and_evaluation_loses_nothing(database_url, fake) -> None:
    import httpx

    from tests.conftest import make_env

    stopped = create_app(online_settings(database_url, fake, online_evaluation=False))
    async with stopped.router.lifespan_context(stopped):
        env = await make_env(stopped, "restart")
        transport = httpx.ASGITransport(app=stopped)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await create_evaluation(client, env)
            events = [generation_event(f"u-{i}") for i in range(25)]
            await send(client, env, events)
    assert await runs(stopped) == []
    await stopped.state.engine.dispose()
    app = create_app(online_settings(database_url, fake))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            rows = await settle(app, expected_runs=25)
            assert {str(r.event_uuid) for r in rows} == {e["uuid"] for e in events}
            assert len(await evaluation_events(client, env)) == 25
            async with app.state.sessionmaker() as session:
                count = await session.scalar(select(func.count()).select_from(EvaluationRunRow))
            assert count == 25
