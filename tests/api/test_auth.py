"""Authentication, scopes and tenant isolation on both surfaces."""

from __future__ import annotations

import uuid

import pytest

from assay.domain.scopes import normalize_scopes
from assay.storage import environments as env_store
from assay.storage.db import make_sessionmaker
from tests.conftest import add_key

ANALYTICS = [("datasets", "dataset"), ("dataset_items", "dataset"), ("evaluations", "evaluation")]


async def test_missing_and_invalid_keys_are_401(client, env_a):
    for path in [f"{env_a.api}/datasets", f"{env_a.api}/evaluations", f"{env_a.api}/dataset_items"]:
        r = await client.get(path)
        assert r.status_code == 401
        assert r.json()["type"] == "authentication_error" and r.json()["code"] == "not_authenticated"
        r = await client.get(path, headers={"Authorization": "Bearer asy_wrong"})
        assert r.status_code == 401 and r.json()["code"] == "authentication_failed"
    r = await client.get("/v1/evaluations")
    assert r.status_code == 401 and "detail" in r.json()
    r = await client.get("/v1/evaluations", headers={"X-Api-Key": "nope"})
    assert r.status_code == 401


async def test_both_header_forms_work_on_both_surfaces(client, env_a):
    for headers in ({"Authorization": f"Bearer {env_a.key}"}, {"X-Api-Key": env_a.key}):
        assert (await client.get(f"{env_a.api}/datasets", headers=headers)).status_code == 200
        assert (await client.get("/v1/evaluations", headers=headers)).status_code == 200


async def test_revoked_key_is_401(app, client, env_a):
    assert (await client.get("/v1/evaluations", headers=env_a.headers)).status_code == 200
    async with make_sessionmaker(app.state.engine)() as session:
        await env_store.revoke_api_key(session=session, id_or_prefix=env_a.key_id)
        await session.commit()
    assert (await client.get("/v1/evaluations", headers=env_a.headers)).status_code == 401
    assert (await client.get(f"{env_a.api}/datasets", headers=env_a.headers)).status_code == 401


@pytest.mark.parametrize(("resource", "obj"), ANALYTICS)
async def test_read_scope_allows_get_only(app, client, env_a, resource, obj):
    read_only = {"Authorization": f"Bearer {await add_key(app, env_a, [f'{obj}:read'])}"}
    assert (await client.get(f"{env_a.api}/{resource}", headers=read_only)).status_code == 200
    r = await client.post(f"{env_a.api}/{resource}", json={}, headers=read_only)
    assert r.status_code == 403 and r.json()["detail"] == f"API key missing required scope '{obj}:write'"
    for method in ("patch", "put", "delete"):
        r = await client.request(method.upper(), f"{env_a.api}/{resource}/{uuid.uuid4()}", json={}, headers=read_only)
        assert r.status_code == 403, method


@pytest.mark.parametrize(("resource", "obj"), ANALYTICS)
async def test_other_scope_object_is_403(app, client, env_a, resource, obj):
    other = "evaluation" if obj == "dataset" else "dataset"
    key = await add_key(app, env_a, [f"{other}:read", f"{other}:write"])
    r = await client.get(f"{env_a.api}/{resource}", headers={"X-Api-Key": key})
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"


async def test_write_scope_implies_read(app, client, env_a):
    key = await add_key(app, env_a, ["dataset:write"])
    assert (await client.get(f"{env_a.api}/datasets", headers={"X-Api-Key": key})).status_code == 200


async def test_event_write_does_not_imply_read(app, client, env_a):
    """A key for producers ingests events and rotates the project token, and reads nothing it logged."""
    key = {"X-Api-Key": await add_key(app, env_a, ["event:write"])}
    assert (await client.post(f"{env_a.api}/reset_token", headers=key)).status_code == 200
    r = await client.get(f"{env_a.api}/events", headers=key)
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert (await client.get(f"{env_a.api}/datasets", headers=key)).status_code == 403


def test_keys_create_offers_event_read(tmp_path):
    """`assay keys create` lists event:read among its scopes (the default, all of them, includes it)."""
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "assay.cli", "keys", "create", "--help"],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "event:read" in out and "event:write" in out
    assert normalize_scopes(["event:read"]) == ["event:read"]
    assert "event:read" in normalize_scopes(["*"])


async def test_v1_scopes(app, client, env_a):
    read_only = {"X-Api-Key": await add_key(app, env_a, ["evaluation:read"])}
    assert (await client.get("/v1/evaluations", headers=read_only)).status_code == 200
    r = await client.post("/v1/evaluations", json={"name": "x"}, headers=read_only)
    assert r.status_code == 403 and r.json() == {"detail": "API key missing required scope 'evaluation:write'"}
    datasets_only = {"X-Api-Key": await add_key(app, env_a, ["dataset:read", "dataset:write"])}
    assert (await client.get("/v1/evaluations", headers=datasets_only)).status_code == 403


async def test_key_of_other_environment_on_its_url_is_403(client, env_a, env_b):
    for resource, _ in ANALYTICS:
        r = await client.get(f"{env_b.api}/{resource}", headers=env_a.headers)
        assert r.status_code == 403 and r.json()["code"] == "permission_denied"
        r = await client.post(f"{env_b.api}/{resource}", json={"name": "x"}, headers=env_a.headers)
        assert r.status_code == 403
    r = await client.get(f"/api/environments/{uuid.uuid4()}/datasets", headers=env_a.headers)
    assert r.status_code == 403


async def test_current_environment_alias(client, env_a):
    r = await client.post("/api/environments/@current/datasets", json={"name": "x"}, headers=env_a.headers)
    assert r.status_code == 201 and r.json()["team"] == env_a.id


async def test_objects_of_other_environment_are_invisible(client, env_a, env_b):
    ds = (await client.post(f"{env_b.api}/datasets", json={"name": "secret"}, headers=env_b.headers)).json()
    item = (await client.post(f"{env_b.api}/dataset_items", json={"dataset": ds["id"]}, headers=env_b.headers)).json()
    ev = (
        await client.post(
            f"{env_b.api}/evaluations",
            json={"name": "e", "evaluation_type": "hog", "output_type": "boolean"},
            headers=env_b.headers,
        )
    ).json()
    for resource, obj in [("datasets", ds), ("dataset_items", item), ("evaluations", ev)]:
        assert (await client.get(f"{env_a.api}/{resource}/{obj['id']}", headers=env_a.headers)).status_code == 404
        r = await client.patch(f"{env_a.api}/{resource}/{obj['id']}", json={"deleted": True}, headers=env_a.headers)
        assert r.status_code == 404
        listing = (await client.get(f"{env_a.api}/{resource}", headers=env_a.headers)).json()
        assert listing["count"] == 0
    assert (await client.get(f"{env_b.api}/datasets/{ds['id']}", headers=env_b.headers)).json()["deleted"] is False

    suite = (await client.post("/v1/evaluations", json={"name": "s"}, headers=env_b.headers)).json()
    case = (
        await client.post(
            f"/v1/evaluations/{suite['id']}/test-cases", json={"input_message": "hi"}, headers=env_b.headers
        )
    ).json()
    assert (await client.get("/v1/evaluations", headers=env_a.headers)).json() == []
    for method, path in [
        ("GET", f"/v1/evaluations/{suite['id']}"),
        ("DELETE", f"/v1/evaluations/{suite['id']}"),
        ("GET", f"/v1/evaluations/{suite['id']}/test-cases"),
        ("POST", f"/v1/evaluations/{suite['id']}/test-cases"),
        ("DELETE", f"/v1/evaluations/{suite['id']}/test-cases/{case['id']}"),
    ]:
        r = await client.request(method, path, json={"input_message": "x"}, headers=env_a.headers)
        assert r.status_code == 404, (method, path)
    assert (await client.get(f"/v1/evaluations/{suite['id']}/test-cases", headers=env_b.headers)).json() != []
