"""Rotating an environment's project token: `POST|PATCH /api/environments/{id}/reset_token`."""

from __future__ import annotations

import uuid

import pytest

from assay.errors import ResourceNotFound
from assay.storage import environments as env_store
from assay.storage.db import make_sessionmaker
from tests.conftest import add_key


def ai_event() -> dict:
    return {
        "event": "$ai_generation",
        "distinct_id": "user-1",
        "uuid": str(uuid.uuid4()),
        "properties": {"$ai_trace_id": "t-1", "$ai_model": "gpt-4o-mini", "$ai_input": "2+2?", "$ai_output": "4"},
    }


async def send(client, token: str, event: dict | None = None) -> int:  # noqa: ANN001
    r = await client.post("/batch/", json={"api_key": token, "batch": [event or ai_event()]})
    return r.status_code


async def stored_uuids(client, env) -> list[str]:  # noqa: ANN001
    r = await client.get(f"{env.api}/events", headers=env.headers)
    assert r.status_code == 200, r.text
    return [e["uuid"] for e in r.json()["results"]]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_rotation_retires_the_old_token_at_once(client, env_a, env_b, method):
    assert await send(client, env_a.project_token) == 200
    r = await client.request(method, f"{env_a.api}/reset_token", headers=env_a.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"id", "name", "project_token", "api_token"} and body["api_token"] == body["project_token"]
    assert body["id"] == env_a.id and body["name"] == env_a.name
    new = body["project_token"]
    assert new.startswith("phc_") and new != env_a.project_token

    old = await client.post("/batch/", json={"api_key": env_a.project_token, "batch": [ai_event()]})
    assert old.status_code == 401 and old.json()["type"] == "authentication_error"
    event = ai_event()
    assert await send(client, new, event) == 200
    uuids = await stored_uuids(client, env_a)
    assert len(uuids) == 2 and event["uuid"] in uuids  # the first event, and the one sent with the new token
    # another environment's token is untouched
    assert await send(client, env_b.project_token) == 200


async def test_each_rotation_retires_the_previous_token(client, env_a):
    first = (await client.post(f"{env_a.api}/reset_token", headers=env_a.headers)).json()["project_token"]
    second = (await client.post(f"{env_a.api}/reset_token", headers=env_a.headers)).json()["project_token"]
    assert len({env_a.project_token, first, second}) == 3
    assert await send(client, first) == 401
    assert await send(client, second) == 200


async def test_current_environment_alias(client, env_a):
    r = await client.post("/api/environments/@current/reset_token", headers=env_a.headers)
    assert r.status_code == 200 and r.json()["id"] == env_a.id
    assert await send(client, r.json()["project_token"]) == 200


async def test_event_write_scope_is_enough(app, client, env_a):
    key = await add_key(app, env_a, ["event:write"])
    r = await client.post(f"{env_a.api}/reset_token", headers={"X-Api-Key": key})
    assert r.status_code == 200
    assert await send(client, r.json()["project_token"]) == 200


@pytest.mark.parametrize(
    "scopes",
    [
        ["dataset:read", "evaluation:read"],  # read-only
        ["dataset:read", "dataset:write", "evaluation:read", "evaluation:write"],  # everything but events
    ],
)
async def test_key_without_event_write_is_403_and_token_unchanged(app, client, env_a, scopes):
    key = await add_key(app, env_a, scopes)
    for method in ("POST", "PATCH"):
        r = await client.request(method, f"{env_a.api}/reset_token", headers={"X-Api-Key": key})
        assert r.status_code == 403
        assert r.json() == {
            "type": "authentication_error",
            "code": "permission_denied",
            "detail": "API key missing required scope 'event:write'",
            "attr": None,
        }
    assert await send(client, env_a.project_token) == 200


async def test_key_of_other_environment_cannot_rotate(client, env_a, env_b):
    # as on every /api/environments/{id}/ route, another environment's key is refused with 403
    r = await client.post(f"{env_b.api}/reset_token", headers=env_a.headers)
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    r = await client.post(f"/api/environments/{uuid.uuid4()}/reset_token", headers=env_a.headers)
    assert r.status_code == 403
    assert await send(client, env_b.project_token) == 200
    assert await send(client, env_a.project_token) == 200


async def test_missing_or_invalid_key_is_401(client, env_a):
    r = await client.post(f"{env_a.api}/reset_token")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    r = await client.post(f"{env_a.api}/reset_token", headers={"Authorization": "Bearer asy_wrong"})
    assert r.status_code == 401 and r.json()["code"] == "authentication_failed"
    # the project token is for ingestion only: it cannot rotate itself
    r = await client.post(f"{env_a.api}/reset_token", headers={"Authorization": f"Bearer {env_a.project_token}"})
    assert r.status_code == 401
    assert await send(client, env_a.project_token) == 200


async def test_other_methods_are_405(client, env_a):
    for method in ("GET", "PUT", "DELETE"):
        r = await client.request(method, f"{env_a.api}/reset_token", headers=env_a.headers)
        assert r.status_code == 405, method


async def test_openapi_documents_the_scope(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    operation = paths["/api/environments/{environment_id}/reset_token"]
    for method in ("post", "patch"):
        assert operation[method]["x-required-scopes"] == ["event:write"]
        assert "403" in operation[method]["responses"]
    schema = operation["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/EnvironmentToken")


async def test_storage_rotation_of_unknown_environment_is_not_found(app, env_a):
    async with make_sessionmaker(app.state.engine)() as session:
        with pytest.raises(ResourceNotFound):
            await env_store.rotate_project_token(session=session, environment_id=uuid.uuid4())
        row = await env_store.rotate_project_token(session=session, environment_id=uuid.UUID(env_a.id))
        rotated = row.project_token
        assert rotated != env_a.project_token
        await session.rollback()  # the caller commits; without that the old token stays
        found = await env_store.environment_by_token(session=session, token=env_a.project_token)
        assert found is not None and str(found.id) == env_a.id
        assert await env_store.environment_by_token(session=session, token=rotated) is None
