"""`POST …/evaluations/test_hog`: Hog code on recent `$ai_generation` events, as the original answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import add_key

NOW = datetime.now(UTC)


def generation(*, minutes_ago: float = 1, model: str = "gpt-4o", answer: str = "4", **props: object) -> dict:
    return {
        "event": "$ai_generation",
        "distinct_id": "user-1",
        "uuid": str(uuid.uuid4()),
        "timestamp": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "properties": {
            "$ai_trace_id": "trace-1",
            "$ai_model": model,
            "$ai_input": [{"role": "user", "content": "What is 2+2?"}],
            "$ai_output_choices": [{"role": "assistant", "content": answer}],
            **props,
        },
    }


async def ingest(client, env, *events: dict) -> None:  # noqa: ANN001
    r = await client.post(f"{env.api}/events", json={"batch": list(events)}, headers=env.headers)
    assert r.status_code == 200 and r.json()["stored"] == len(events), r.text


async def test_hog(client, env, body: dict, headers: dict | None = None):  # noqa: ANN001, ANN201
    return await client.post(f"{env.api}/evaluations/test_hog", json=body, headers=headers or env.headers)


test_hog.__test__ = False  # a helper, not a test


async def test_no_recent_events(client, env_a) -> None:
    old = generation(minutes_ago=8 * 24 * 60)
    other = {**generation(), "event": "$ai_span"}
    await ingest(client, env_a, old, other)
    r = await test_hog(client, env_a, {"source": "return true"})
    assert r.status_code == 200
    assert r.json() == {"results": [], "message": "No recent AI events found in the last 7 days"}


async def test_pass_fail_and_reasoning(client, env_a) -> None:
    good, bad = generation(minutes_ago=2, answer="4"), generation(minutes_ago=1, answer="five")
    await ingest(client, env_a, good, bad)
    source = "let ok := output like '%\"4\"%'\nprint('answer ok:', ok)\nreturn ok"
    r = await test_hog(client, env_a, {"source": source})
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["event_uuid"] for x in results] == [bad["uuid"], good["uuid"]]  # newest first
    assert results[0] == {
        "event_uuid": bad["uuid"],
        "trace_id": "trace-1",
        "input_preview": "user: What is 2+2?",
        "output_preview": "assistant: five",
        "result": False,
        "reasoning": "answer ok: false",
        "error": None,
    }
    assert results[1]["result"] is True and results[1]["reasoning"] == "answer ok: true"
    assert "message" not in r.json()


@pytest.mark.parametrize(
    ("source", "allows_na", "result", "error"),
    [
        ("return null", True, None, None),
        ("return null", False, None, "Must return boolean, got NoneType: None"),
        ("return 42", False, None, "Must return boolean, got int: 42"),
        ("return 42", True, None, "Must return boolean (or null if N/A is enabled), got int: 42"),
        ("return 'yes'", False, None, "Must return boolean, got str: yes"),
        ("throw Error('boom')", False, None, "Runtime error: Error('boom')"),
        ("return properties.$ai_model == 'gpt-4o'", True, True, None),
    ],
)
async def test_outcomes(client, env_a, source, allows_na, result, error) -> None:
    await ingest(client, env_a, generation())
    r = await test_hog(client, env_a, {"source": source, "allows_na": allows_na})
    assert r.status_code == 200
    [item] = r.json()["results"]
    assert (item["result"], item["error"]) == (result, error)


async def test_sample_count_and_order(client, env_a) -> None:
    events = [generation(minutes_ago=m) for m in range(1, 13)]
    await ingest(client, env_a, *events)
    r = await test_hog(client, env_a, {"source": "return true"})
    assert [x["event_uuid"] for x in r.json()["results"]] == [e["uuid"] for e in events[:5]]  # default 5
    r = await test_hog(client, env_a, {"source": "return true", "sample_count": 10})
    assert len(r.json()["results"]) == 10
    r = await test_hog(client, env_a, {"source": "return true", "sample_count": 1})
    assert [x["event_uuid"] for x in r.json()["results"]] == [events[0]["uuid"]]


async def test_conditions_filter_samples(client, env_a) -> None:
    gpt, claude, mini = (generation(minutes_ago=m, model=x) for m, x in ((3, "gpt-4o"), (2, "claude"), (1, "mini")))
    await ingest(client, env_a, gpt, claude, mini)
    cond = {
        "id": "c1",
        "rollout_percentage": 0,
        "properties": [{"key": "$ai_model", "value": "gpt-4o", "type": "event"}],
    }
    r = await test_hog(client, env_a, {"source": "return true", "conditions": [cond]})
    assert [x["event_uuid"] for x in r.json()["results"]] == [gpt["uuid"]]  # rollout ignored
    other = {"id": "c2", "properties": [{"key": "$ai_model", "value": "claude", "operator": "exact"}]}
    r = await test_hog(client, env_a, {"source": "return true", "conditions": [cond, other]})
    assert [x["event_uuid"] for x in r.json()["results"]] == [claude["uuid"], gpt["uuid"]]  # OR
    empty = {"id": "c3", "properties": []}
    r = await test_hog(client, env_a, {"source": "return true", "conditions": [empty]})
    assert len(r.json()["results"]) == 3  # a condition without filters is ignored
    none = {"id": "c4", "properties": [{"key": "$ai_model", "value": "llama"}]}
    r = await test_hog(client, env_a, {"source": "return true", "conditions": [none]})
    assert r.json() == {"results": [], "message": "No recent AI events found in the last 7 days"}


async def test_previews_are_truncated(client, env_a) -> None:
    ev = generation(answer="x" * 500, **{"$ai_input": "q" * 300})
    await ingest(client, env_a, ev)
    [item] = (await test_hog(client, env_a, {"source": "return true"})).json()["results"]
    assert item["input_preview"] == "q" * 200
    assert item["output_preview"] == ("assistant: " + "x" * 500)[:200]


async def test_compile_error(client, env_a) -> None:
    r = await test_hog(client, env_a, {"source": "return ("})
    assert r.status_code == 400
    assert r.json()["error"].startswith("Compilation error: ")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"source": "return true", "sample_count": 0},
            {"sample_count": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"source": "return true", "sample_count": 11},
            {"sample_count": ["Ensure this value is less than or equal to 10."]},
        ),
        ({"source": "return true", "sample_count": "x"}, {"sample_count": ["A valid integer is required."]}),
        ({}, {"source": ["This field is required."]}),
        ({"source": ""}, {"source": ["This field may not be blank."]}),
        ({"source": "   "}, {"source": ["This field may not be blank."]}),
        ({"source": None}, {"source": ["This field may not be null."]}),
        ({"source": "return true", "allows_na": "maybe"}, {"allows_na": ["Must be a valid boolean."]}),
        (
            {"source": "return true", "conditions": "all"},
            {"conditions": ['Expected a list of items but got type "str".']},
        ),
    ],
)
async def test_validation_errors(client, env_a, body, errors) -> None:
    r = await test_hog(client, env_a, body)
    assert r.status_code == 400
    assert r.json() == {"error": errors}


async def test_non_object_and_bad_condition_bodies(client, env_a) -> None:
    r = await test_hog(client, env_a, [1])  # type: ignore[arg-type]
    assert r.status_code == 400 and "non_field_errors" in r.json()["error"]
    cond = {"properties": [{"key": "$ai_model", "operator": "sounds_like", "value": "x"}]}
    r = await test_hog(client, env_a, {"source": "return true", "conditions": [cond]})
    assert r.status_code == 400 and "conditions" in r.json()["error"]
    r = await client.post(
        f"{env_a.api}/evaluations/test_hog",
        content=b"{nope",
        headers={**env_a.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["code"] == "parse_error"


async def test_scope_and_isolation(client, app, env_a, env_b) -> None:
    await ingest(client, env_b, generation())
    r = await test_hog(client, env_a, {"source": "return true"})
    assert r.json()["results"] == []  # env_b's events are not sampled for env_a
    reader = {"Authorization": f"Bearer {await add_key(app, env_a, ['evaluation:read'])}"}
    assert (await test_hog(client, env_a, {"source": "return true"}, reader)).status_code == 200
    other = {"Authorization": f"Bearer {await add_key(app, env_a, ['dataset:write', 'event:write'])}"}
    r = await test_hog(client, env_a, {"source": "return true"}, other)
    assert r.status_code == 403 and "evaluation:read" in r.json()["detail"]
    r = await client.post(f"{env_b.api}/evaluations/test_hog", json={"source": "return true"}, headers=env_a.headers)
    assert r.status_code == 403
