"""Suites and test cases on the agent-evaluations surface (`/v1/`), through HTTP."""

from __future__ import annotations

import uuid


async def test_create_get_list_delete(client, env_a):
    r = await client.post("/v1/evaluations", json={"name": "checkout agent"}, headers=env_a.headers)
    assert r.status_code == 201
    body = r.json()
    assert sorted(body) == sorted(
        [
            "config",
            "created_at",
            "description",
            "id",
            "instance_id",
            "name",
            "recipe_id",
            "results_summary",
            "status",
            "tenant_id",
            "updated_at",
        ]
    )
    assert body["config"] == {} and body["results_summary"] == {} and body["tenant_id"] == env_a.id
    assert body["instance_id"] is None and body["recipe_id"] is None and body["description"] is None
    assert (await client.get(f"/v1/evaluations/{body['id']}", headers=env_a.headers)).json() == body
    second = (
        await client.post("/v1/evaluations", json={"name": "b", "config": {"k": 1}}, headers=env_a.headers)
    ).json()
    listing = (await client.get("/v1/evaluations", headers=env_a.headers)).json()
    assert [e["id"] for e in listing] == [second["id"], body["id"]]
    r = await client.delete(f"/v1/evaluations/{body['id']}", headers=env_a.headers)
    assert r.status_code == 204 and r.content == b""
    assert (await client.get(f"/v1/evaluations/{body['id']}", headers=env_a.headers)).status_code == 404
    assert (await client.delete(f"/v1/evaluations/{body['id']}", headers=env_a.headers)).status_code == 404


async def test_validation_is_422_with_fastapi_body(client, env_a):
    for payload, loc in [
        ({}, ["body", "name"]),
        ({"name": "x" * 201}, ["body", "name"]),
        ({"name": "ok", "config": []}, ["body", "config"]),
        ({"name": "ok", "instance_id": "nope"}, ["body", "instance_id"]),
    ]:
        r = await client.post("/v1/evaluations", json=payload, headers=env_a.headers)
        assert r.status_code == 422, payload
        detail = r.json()["detail"]
        assert detail[0]["loc"] == loc and {"loc", "msg", "type"} <= set(detail[0])
    r = await client.get("/v1/evaluations/not-a-uuid", headers=env_a.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "evaluation_id"]
    assert (await client.get("/v1/evaluations", headers=env_a.headers)).json() == []


async def test_name_at_limit_is_accepted(client, env_a):
    r = await client.post("/v1/evaluations", json={"name": "x" * 200, "description": "d"}, headers=env_a.headers)
    assert r.status_code == 201 and r.json()["description"] == "d"


async def test_test_cases_defaults_order_and_delete(client, env_a):
    suite = (await client.post("/v1/evaluations", json={"name": "s"}, headers=env_a.headers)).json()
    base = f"/v1/evaluations/{suite['id']}/test-cases"
    r = await client.post(base, json={"input_message": "first"}, headers=env_a.headers)
    assert r.status_code == 201
    first = r.json()
    assert first["sort_order"] == 0 and first["tags"] == [] and first["expected_tool_calls"] is None
    assert first["evaluation_id"] == suite["id"] and first["expected_behavior"] is None
    full = {
        "input_message": "refund order 42",
        "expected_behavior": "calls the refund tool",
        "expected_tool_calls": [{"name": "refund", "arguments": {"order_id": 42}}],
        "tags": ["billing", 1],
        "sort_order": -1,
    }
    second = (await client.post(base, json=full, headers=env_a.headers)).json()
    for key, value in full.items():
        assert second[key] == value
    third = (await client.post(base, json={"input_message": "third"}, headers=env_a.headers)).json()
    listing = (await client.get(base, headers=env_a.headers)).json()
    assert [c["id"] for c in listing] == [second["id"], first["id"], third["id"]]
    r = await client.delete(f"{base}/{first['id']}", headers=env_a.headers)
    assert r.status_code == 204
    assert [c["id"] for c in (await client.get(base, headers=env_a.headers)).json()] == [second["id"], third["id"]]
    assert (await client.delete(f"{base}/{first['id']}", headers=env_a.headers)).status_code == 404
    assert (await client.delete(f"{base}/{uuid.uuid4()}", headers=env_a.headers)).status_code == 404


async def test_test_case_validation(client, env_a):
    suite = (await client.post("/v1/evaluations", json={"name": "s"}, headers=env_a.headers)).json()
    base = f"/v1/evaluations/{suite['id']}/test-cases"
    for payload, field in [
        ({}, "input_message"),
        ({"input_message": ""}, "input_message"),
        ({"input_message": "x", "expected_tool_calls": "refund"}, "expected_tool_calls"),
        ({"input_message": "x", "expected_tool_calls": [1]}, "expected_tool_calls"),
        ({"input_message": "x", "sort_order": "first"}, "sort_order"),
        ({"input_message": "x", "tags": "a"}, "tags"),
    ]:
        r = await client.post(base, json=payload, headers=env_a.headers)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", field], payload
    r = await client.post(
        f"/v1/evaluations/{uuid.uuid4()}/test-cases", json={"input_message": "x"}, headers=env_a.headers
    )
    assert r.status_code == 404
    assert (await client.get(base, headers=env_a.headers)).json() == []


async def test_deleting_suite_removes_its_test_cases(app, client, env_a):
    from sqlalchemy import func, select

    from assay.storage.db import make_sessionmaker
    from assay.storage.tables import TestCaseRow

    suite = (await client.post("/v1/evaluations", json={"name": "s"}, headers=env_a.headers)).json()
    for i in range(3):
        await client.post(
            f"/v1/evaluations/{suite['id']}/test-cases", json={"input_message": str(i)}, headers=env_a.headers
        )
    await client.delete(f"/v1/evaluations/{suite['id']}", headers=env_a.headers)
    async with make_sessionmaker(app.state.engine)() as session:
        assert await session.scalar(select(func.count()).select_from(TestCaseRow)) == 0
