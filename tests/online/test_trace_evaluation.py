"""Trace- and session-level online evaluation: one `$ai_evaluation` per whole trace once it has gone idle."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from assay.api.app import create_app
from assay.storage.event_tables import EventRow
from assay.storage.online_tables import TraceCandidateRow
from assay.storage.types import utcnow
from tests.conftest import make_env
from tests.online.conftest import (
    condition,
    create_evaluation,
    evaluation_events,
    model_is,
    online_settings,
    runs,
    send,
    settle,
    wait_for,
)

IDLE = 0.6
QUIET = 1.5
"""The idle time where a trace arrives in two batches: well above the gap between them, even on a loaded machine."""
TRANSCRIPT_HOG = "print(input); print(output); return output == 'It is Paris.'"


def turn_event(trace_id: str, history: list[dict[str, str]], reply: str, **props: Any) -> dict[str, Any]:
    """A generation of a chat that resends its history, as SDK integrations do."""
    return {
        "event": "$ai_generation",
        "distinct_id": "user-1",
        "uuid": str(uuid.uuid4()),
        "properties": {
            "$ai_trace_id": trace_id,
            "$ai_model": "gpt-4o-mini",
            "$ai_input": history,
            "$ai_output_choices": [{"role": "assistant", "content": reply}],
            "$ai_input_tokens": 10,
            **props,
        },
    }


def conversation(trace_id: str, **props: Any) -> list[dict[str, Any]]:
    first = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
    second = [*first, {"role": "assistant", "content": "Paris."}, {"role": "user", "content": "Sure?"}]
    return [turn_event(trace_id, first, "Paris.", **props), turn_event(trace_id, second, "It is Paris.", **props)]


def trace_event(trace_id: str) -> dict[str, Any]:
    return {
        "event": "$ai_trace",
        "distinct_id": "user-1",
        "uuid": str(uuid.uuid4()),
        "properties": {"$ai_trace_id": trace_id, "$ai_span_name": "chat"},
    }


async def trace_evaluations(http, env, expected: int) -> list[dict[str, Any]]:  # noqa: ANN001
    async def enough() -> list[dict[str, Any]] | None:
        found = await evaluation_events(http, env)
        return found if len(found) >= expected else None

    return await wait_for(enough, timeout=15)


async def test_a_trace_is_evaluated_once_after_it_goes_idle(http, env, running_app) -> None:
    evaluation = await create_evaluation(
        http, env, evaluation_config={"source": TRANSCRIPT_HOG}, target="$ai_trace", idle_seconds=QUIET
    )
    assert evaluation["target"] == "$ai_trace" and evaluation["idle_seconds"] == QUIET
    first, second = conversation("trace-a"), conversation("trace-b")
    await send(http, env, [first[0], second[0], trace_event("trace-a")])
    await send(http, env, [first[1], second[1]])
    evaluated = await trace_evaluations(http, env, 2)
    by_trace = {e["properties"]["$ai_trace_id"]: e["properties"] for e in evaluated}
    assert set(by_trace) == {"trace-a", "trace-b"}
    props = by_trace["trace-a"]
    assert props["$ai_target_event_type"] == "$ai_trace"
    assert props["$ai_evaluation_id"] == evaluation["id"] and props["$ai_evaluation_result"] is True
    reasoning = props["$ai_evaluation_reasoning"]
    assert reasoning.count("Capital of France?") == 1 and reasoning.count("Be brief.") == 1  # each turn once
    assert "Sure?" in reasoning and reasoning.endswith("It is Paris.")
    assert props["$ai_target_event_id"] == first[1]["uuid"]  # the trace's latest event
    rows = await settle(running_app, expected_runs=2)
    assert {(r.target_kind, r.target_key, r.status) for r in rows} == {
        ("trace", "trace-a", "completed"),
        ("trace", "trace-b", "completed"),
    }
    async with running_app.state.sessionmaker() as session:
        for row in rows:  # queued only once the trace had been quiet for the idle time
            last = await session.scalar(
                select(func.max(EventRow.created_at)).where(
                    EventRow.trace_id == row.target_key, EventRow.event != "$ai_evaluation"
                )
            )
            assert (row.created_at - last).total_seconds() >= QUIET

    await send(http, env, [turn_event("trace-a", [{"role": "user", "content": "Again?"}], "Yes.")])
    await settle(running_app)
    async with running_app.state.sessionmaker() as session:  # the trace waits again: make it due now
        await session.execute(update(TraceCandidateRow).values(due_at=utcnow()))
        await session.commit()

    async def drained() -> bool:
        async with running_app.state.sessionmaker() as session:
            return not await session.scalar(select(func.count()).select_from(TraceCandidateRow))

    await wait_for(drained)
    await settle(running_app)
    assert len(await evaluation_events(http, env)) == 2  # once per trace, even after more events
    assert len(await runs(running_app)) == 2


async def test_conditions_pick_traces_and_generation_evaluations_are_unchanged(http, env, running_app) -> None:
    await create_evaluation(
        http,
        env,
        name="trace-level",
        evaluation_config={"source": "return true"},
        target="$ai_trace",
        idle_seconds=IDLE,
        conditions=[condition(model_is("gpt-4o"))],
    )
    per_generation = await create_evaluation(http, env, name="per-generation")
    matching = conversation("trace-match")
    matching[1]["properties"]["$ai_model"] = "gpt-4o"  # one event of the trace matches
    await send(http, env, [*matching, *conversation("trace-other")])
    evaluated = await trace_evaluations(http, env, 5)
    trace_level = [e for e in evaluated if e["properties"]["$ai_target_event_type"] == "$ai_trace"]
    assert [e["properties"]["$ai_trace_id"] for e in trace_level] == ["trace-match"]
    generation_level = [e for e in evaluated if e["properties"]["$ai_evaluation_id"] == per_generation["id"]]
    assert len(generation_level) == 4
    assert {e["properties"]["$ai_target_event_type"] for e in generation_level} == {"$ai_generation"}


async def test_a_session_is_judged_as_one_transcript(http, env, running_app, fake) -> None:
    fake.set_scenario({"rules": [{"json": {"verdict": True, "reasoning": "Stayed on task."}}]})
    evaluation = await create_evaluation(
        http,
        env,
        name="session-judge",
        evaluation_type="llm_judge",
        evaluation_config={"prompt": f"Did the assistant stay on task across the session? ({uuid.uuid4()})"},
        target="$ai_session",
        idle_seconds=IDLE,
    )
    events = conversation("trace-s1", **{"$ai_session_id": "session-1"})
    events += [
        turn_event(
            "trace-s2", [{"role": "user", "content": "And Spain?"}], "Madrid.", **{"$ai_session_id": "session-1"}
        )
    ]
    await send(http, env, events)
    [ev] = await trace_evaluations(http, env, 1)
    props = ev["properties"]
    assert props["$ai_evaluation_id"] == evaluation["id"] and props["$ai_evaluation_result"] is True
    assert props["$ai_target_event_type"] == "$ai_session" and props["$ai_session_id"] == "session-1"
    assert props["$ai_trace_id"] is None
    judged = [str(r) for r in fake.requests() if "stay on task" in str(r)]
    assert judged and "And Spain?" in judged[-1] and "Capital of France?" in judged[-1]
    assert "Output: Madrid." in judged[-1]


async def test_a_restart_before_the_trace_goes_idle_still_evaluates_it_once(database_url, fake) -> None:
    first = create_app(online_settings(database_url, fake))
    async with first.router.lifespan_context(first):
        env = await make_env(first, "restart-trace")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://t") as client:
            await create_evaluation(
                client, env, evaluation_config={"source": "return true"}, target="$ai_trace", idle_seconds=600
            )
            await send(client, env, conversation("trace-r"))
            await settle(first)
        async with first.state.sessionmaker() as session:  # the wait is in the database, not in the process
            [due] = list(await session.scalars(select(TraceCandidateRow.due_at)))
            assert due > utcnow() + timedelta(seconds=500) and await runs(first) == []
            # the idle time passes while no scheduler runs
            await session.execute(update(TraceCandidateRow).values(due_at=utcnow() + timedelta(seconds=0.3)))
            await session.commit()
    await first.state.engine.dispose()
    second = create_app(online_settings(database_url, fake))
    async with second.router.lifespan_context(second):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://t") as client:
            [ev] = await trace_evaluations(client, env, 1)
            assert ev["properties"]["$ai_trace_id"] == "trace-r"
            await asyncio.sleep(0.3)
            [row] = await settle(second, expected_runs=1)
            assert row.status == "completed" and len(await evaluation_events(client, env)) == 1
    await second.state.engine.dispose()


async def test_evaluation_runs_on_a_trace_event_evaluate_the_whole_trace(http, env, running_app) -> None:
    evaluation = await create_evaluation(
        http, env, evaluation_config={"source": TRANSCRIPT_HOG}, enabled=False, conditions=[]
    )
    root = trace_event("trace-m")
    await send(http, env, [root, *conversation("trace-m")])
    r = await http.get(f"{env.api}/events/{root['uuid']}", headers=env.headers)
    assert r.status_code == 200, r.text
    body = {
        "evaluation_id": evaluation["id"],
        "target_event_id": root["uuid"],
        "timestamp": r.json()["timestamp"],
        "event": "$ai_trace",
    }
    r = await http.post(f"{env.api}/evaluation_runs", json=body, headers=env.headers)
    assert r.status_code == 202, r.text
    workflow_id = r.json()["workflow_id"]
    [ev] = await trace_evaluations(http, env, 1)
    props = ev["properties"]
    assert props["$ai_target_event_id"] == root["uuid"] and props["$ai_target_event_type"] == "$ai_trace"
    assert props["$ai_trace_id"] == "trace-m" and "Sure?" in props["$ai_evaluation_reasoning"]
    r = await http.get(f"{env.api}/evaluation_runs/{workflow_id}", headers=env.headers)
    assert r.json()["target_type"] == "$ai_trace" and r.json()["target_id"] == "trace-m"


async def test_bad_targets_are_refused(http, env, running_app) -> None:
    base = {
        "name": "x",
        "evaluation_type": "hog",
        "evaluation_config": {"source": "return true"},
        "output_type": "boolean",
    }
    for extra in ({"target": "$ai_span"}, {"target": "$ai_trace", "idle_seconds": 0}, {"idle_seconds": "soon"}):
        r = await http.post(f"{env.api}/evaluations", json={**base, **extra}, headers=env.headers)
        assert r.status_code == 400, (extra, r.text)
    no_trace = {
        "event": "$ai_trace",
        "distinct_id": "u",
        "uuid": str(uuid.uuid4()),
        "properties": {"$ai_span_name": "x"},
    }
    evaluation = await create_evaluation(http, env, enabled=False, conditions=[])
    await send(http, env, [no_trace])
    r = await http.get(f"{env.api}/events/{no_trace['uuid']}", headers=env.headers)
    body = {
        "evaluation_id": evaluation["id"],
        "target_event_id": no_trace["uuid"],
        "timestamp": r.json()["timestamp"],
        "event": "$ai_trace",
    }
    r = await http.post(f"{env.api}/evaluation_runs", json=body, headers=env.headers)
    assert r.status_code == 400, r.text
