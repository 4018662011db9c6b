"""`POST/GET /api/environments/{id}/evaluation_runs`: manual runs (§4.1)."""

from __future__ import annotations

import uuid

from tests.conftest import add_key
from tests.online.conftest import create_evaluation, evaluation_events, generation_event, send, settle, wait_for


async def _event(http, env, running_app) -> dict:  # noqa: ANN001
    target = {**generation_event("user-m"), "timestamp": "2026-03-04T23:30:00+00:00"}
    await send(http, env, [target])
    await settle(running_app)
    r = await http.get(f"{env.api}/events/{target['uuid']}", headers=env.headers)
    assert r.status_code == 200 and r.json()["timestamp"].startswith("2026-03-04T23:30"), r.text
    return target


def _body(evaluation: dict, target: dict, **extra: object) -> dict:
    return {
        "evaluation_id": evaluation["id"],
        "target_event_id": target["uuid"],
        "timestamp": "2026-03-04T01:00:00Z",
        **extra,
    }


async def test_manual_run_ignores_enabled_and_conditions(http, env, running_app) -> None:
    evaluation = await create_evaluation(http, env, name="manual", enabled=False, conditions=[])
    target = await _event(http, env, running_app)
    r = await http.post(f"{env.api}/evaluation_runs", json=_body(evaluation, target), headers=env.headers)
    assert r.status_code == 202, r.text
    body = r.json()
    assert set(body) == {"workflow_id", "status", "evaluation", "target_event_id"}
    assert body["status"] == "started" and body["target_event_id"] == target["uuid"]
    assert body["evaluation"] == {"id": evaluation["id"], "name": "manual"}
    assert body["workflow_id"].startswith(f"{evaluation['id']}-{target['uuid']}-manual-")

    async def finished() -> dict | None:
        got = await http.get(f"{env.api}/evaluation_runs/{body['workflow_id']}", headers=env.headers)
        assert got.status_code == 200
        return got.json() if got.json()["status"] == "completed" else None

    run = await wait_for(finished)
    assert run["result"] == {"verdict": True, "reasoning": "checked"} and run["error"] is None
    assert run["evaluation_id"] == evaluation["id"] and run["target_event_id"] == target["uuid"]
    assert run["started_at"] and run["finished_at"] and run["created_at"]
    [ev] = await evaluation_events(http, env)
    assert ev["properties"]["$ai_target_event_id"] == target["uuid"]
    # a second manual run of the same pair is allowed
    again = await http.post(f"{env.api}/evaluation_runs/", json=_body(evaluation, target), headers=env.headers)
    assert again.status_code == 202


async def test_not_found_cases(http, env, running_app) -> None:
    evaluation = await create_evaluation(http, env, enabled=False)
    target = await _event(http, env, running_app)
    url = f"{env.api}/evaluation_runs"
    missing = str(uuid.uuid4())
    r = await http.post(url, json={**_body(evaluation, target), "evaluation_id": missing}, headers=env.headers)
    assert r.status_code == 404 and r.json() == {"error": f"Evaluation {missing} not found"}
    r = await http.post(url, json={**_body(evaluation, target), "target_event_id": missing}, headers=env.headers)
    assert r.status_code == 404 and r.json() == {"error": f"Event {missing} not found"}
    for extra in ({"timestamp": "2026-03-05T00:00:00Z"}, {"event": "$ai_span"}, {"distinct_id": "someone-else"}):
        r = await http.post(url, json=_body(evaluation, target, **extra), headers=env.headers)
        assert r.status_code == 404 and r.json() == {"error": f"Event {target['uuid']} not found"}, extra
    r = await http.post(url, json=_body(evaluation, target, distinct_id="user-m"), headers=env.headers)
    assert r.status_code == 202
    await http.patch(f"{env.api}/evaluations/{evaluation['id']}", json={"deleted": True}, headers=env.headers)
    r = await http.post(url, json=_body(evaluation, target), headers=env.headers)
    assert r.status_code == 404 and r.json() == {"error": f"Evaluation {evaluation['id']} not found"}
    r = await http.get(f"{url}/nope", headers=env.headers)
    assert r.status_code == 404


async def test_invalid_bodies(http, env) -> None:
    url = f"{env.api}/evaluation_runs"
    r = await http.post(url, json={}, headers=env.headers)
    assert r.status_code == 400
    assert r.json() == {
        "error": {f: ["This field is required."] for f in ("evaluation_id", "target_event_id", "timestamp")}
    }
    r = await http.post(
        url, json={"evaluation_id": "x", "target_event_id": str(uuid.uuid4()), "timestamp": "soon"}, headers=env.headers
    )
    assert r.status_code == 400
    errors = r.json()["error"]
    assert errors["evaluation_id"] == ["Must be a valid UUID."] and errors["timestamp"][0].startswith("Datetime has")


async def test_scopes(http, env, running_app) -> None:
    reader = await add_key(running_app, env, ["evaluation:read"])
    r = await http.post(f"{env.api}/evaluation_runs", json={}, headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 403
    r = await http.get(f"{env.api}/evaluation_runs/x", headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 404
