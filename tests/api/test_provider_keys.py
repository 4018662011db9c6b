"""`/api/environments/{id}/llm_provider_keys` through HTTP: CRUD, DRF errors, secrets, isolation, scopes."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from assay.errors import ResourceNotFound
from assay.storage.db import make_sessionmaker
from assay.storage.provider_keys import load_provider_key
from assay.storage.tables import ModelConfigurationRow, ProviderKeyRow
from tests.conftest import add_key

SECRET = "sk-proj-S3cretProviderKey-abcd"
KEY = {"provider": "openai", "name": "team key", "api_key": SECRET}


async def create(client, env, **overrides):
    r = await client.post(f"{env.api}/llm_provider_keys", json={**KEY, **overrides}, headers=env.headers)
    assert r.status_code == 201, r.text
    assert SECRET not in r.text
    return r.json()


async def load(app, env, key_id):
    async with make_sessionmaker(app.state.engine)() as session:
        return await load_provider_key(
            session=session,
            environment_id=uuid.UUID(env.id),
            key_id=uuid.UUID(key_id),
            secret_key=app.state.settings.secret_key,
        )


async def test_crud(client, env_a):
    body = await create(client, env_a, base_url="http://127.0.0.1:8080/v1/", requests_per_minute=60)
    assert list(body) == [
        "id",
        "provider",
        "name",
        "state",
        "error_message",
        "base_url",
        "requests_per_minute",
        "tokens_per_minute",
        "api_key_mask",
        "created_at",
        "last_used_at",
    ]
    assert body["api_key_mask"] == "sk-…abcd" and body["state"] == "unknown" and body["error_message"] is None
    assert body["base_url"] == "http://127.0.0.1:8080/v1" and body["requests_per_minute"] == 60
    assert body["tokens_per_minute"] is None and body["last_used_at"] is None
    url = f"{env_a.api}/llm_provider_keys/{body['id']}"
    assert (await client.get(url, headers=env_a.headers)).json() == body
    second = await create(client, env_a, provider="anthropic", name="claude", api_key="short")
    assert second["api_key_mask"] == "…"
    listed = await client.get(f"{env_a.api}/llm_provider_keys", headers=env_a.headers)
    assert SECRET not in listed.text
    listing = listed.json()
    assert listing["count"] == 2 and listing["next"] is None and listing["previous"] is None
    assert [k["id"] for k in listing["results"]] == [second["id"], body["id"]]
    page = (await client.get(f"{env_a.api}/llm_provider_keys?limit=1", headers=env_a.headers)).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and "offset=1" in page["next"]
    only = (await client.get(f"{env_a.api}/llm_provider_keys?provider=anthropic", headers=env_a.headers)).json()
    assert [k["id"] for k in only["results"]] == [second["id"]]
    r = await client.patch(
        url, json={"name": "renamed", "tokens_per_minute": 1000, "base_url": None}, headers=env_a.headers
    )
    assert r.status_code == 200
    assert r.json()["name"] == "renamed" and r.json()["tokens_per_minute"] == 1000 and r.json()["base_url"] is None
    assert r.json()["requests_per_minute"] == 60 and r.json()["api_key_mask"] == "sk-…abcd"
    r = await client.delete(url, headers=env_a.headers)
    assert r.status_code == 204 and r.content == b""
    assert (await client.get(url, headers=env_a.headers)).status_code == 404
    assert (await client.delete(url, headers=env_a.headers)).status_code == 404


async def test_encrypted_at_rest_and_loader(app, client, env_a, env_b):
    body = await create(client, env_a)
    async with make_sessionmaker(app.state.engine)() as session:
        row = await session.scalar(select(ProviderKeyRow).where(ProviderKeyRow.id == uuid.UUID(body["id"])))
        assert row is not None and SECRET not in row.encrypted_config
    row, api_key = await load(app, env_a, body["id"])
    assert api_key == SECRET and row.provider == "openai"
    with pytest.raises(ResourceNotFound):
        await load(app, env_b, body["id"])


async def test_patch_api_key_resets_state(app, client, env_a):
    body = await create(client, env_a)
    async with make_sessionmaker(app.state.engine)() as session:
        row = await session.get(ProviderKeyRow, uuid.UUID(body["id"]))
        row.state, row.error_message = "invalid", "API key is invalid"
        await session.commit()
    url = f"{env_a.api}/llm_provider_keys/{body['id']}"
    assert (await client.get(url, headers=env_a.headers)).json()["state"] == "invalid"
    r = await client.patch(url, json={"name": "still"}, headers=env_a.headers)
    assert r.json()["state"] == "invalid"
    assert (await load(app, env_a, body["id"]))[1] == SECRET
    r = await client.patch(url, json={"api_key": "  sk-other-0123456789-wxyz "}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["state"] == "unknown" and r.json()["error_message"] is None
    assert r.json()["api_key_mask"] == "sk-…wxyz" and "0123456789" not in r.text
    assert (await load(app, env_a, body["id"]))[1] == "sk-other-0123456789-wxyz"


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({"name": "x", "api_key": SECRET}, "provider", "required"),
        ({**KEY, "provider": "mistral"}, "provider", "invalid_choice"),
        ({"provider": "openai", "api_key": SECRET}, "name", "required"),
        ({**KEY, "name": "  "}, "name", "blank"),
        ({"provider": "openai", "name": "n"}, "api_key", "required"),
        ({"provider": "openai", "name": "n", "base_url": None}, "api_key", "required"),
        ({**KEY, "api_key": ""}, "api_key", "blank"),
        ({**KEY, "api_key": None}, "api_key", "null"),
        ({**KEY, "base_url": "ftp://x"}, "base_url", "invalid"),
        ({**KEY, "requests_per_minute": 0}, "requests_per_minute", "min_value"),
        ({**KEY, "provider": "azure_openai"}, "base_url", "required"),
    ],
)
async def test_validation_is_drf_400(client, env_a, payload, attr, code):
    r = await client.post(f"{env_a.api}/llm_provider_keys", json=payload, headers=env_a.headers)
    assert r.status_code == 400, r.text
    assert r.json()["type"] == "validation_error" and r.json()["attr"] == attr and r.json()["code"] == code
    assert SECRET not in r.text


async def test_patch_validation(client, env_a):
    body = await create(client, env_a)
    url = f"{env_a.api}/llm_provider_keys/{body['id']}"
    for payload, attr in [
        ({"provider": "anthropic"}, "provider"),
        ({"name": None}, "name"),
        ({"api_key": ""}, "api_key"),
        ({"api_key": None}, "api_key"),
    ]:
        r = await client.patch(url, json=payload, headers=env_a.headers)
        assert r.status_code == 400 and r.json()["attr"] == attr, (payload, r.text)
    assert (await client.patch(url, json={"provider": "openai"}, headers=env_a.headers)).status_code == 200
    assert (await client.get(f"{env_a.api}/llm_provider_keys/not-a-uuid", headers=env_a.headers)).status_code == 404


async def test_delete_referenced_key_nulls_model_configurations(app, client, env_a):
    key = await create(client, env_a)
    evaluation = {
        "name": "judge",
        "evaluation_type": "llm_judge",
        "evaluation_config": {"prompt": "ok?"},
        "output_type": "boolean",
        "model_configuration": {"provider": "openai", "model": "gpt-test", "provider_key_id": key["id"]},
    }
    r = await client.post(f"{env_a.api}/evaluations", json=evaluation, headers=env_a.headers)
    assert r.status_code == 201 and r.json()["model_configuration"]["provider_key_id"] == key["id"]
    assert (await client.delete(f"{env_a.api}/llm_provider_keys/{key['id']}", headers=env_a.headers)).status_code == 204
    got = (await client.get(f"{env_a.api}/evaluations/{r.json()['id']}", headers=env_a.headers)).json()
    assert got["model_configuration"]["provider_key_id"] is None and got["model_configuration"]["model"] == "gpt-test"
    async with make_sessionmaker(app.state.engine)() as session:
        assert await session.scalar(select(ProviderKeyRow)) is None
        assert (await session.scalar(select(ModelConfigurationRow))).provider_key_id is None


async def test_tenant_isolation(client, env_a, env_b):
    body = await create(client, env_a)
    # env_a's key on env_b's URL: 403
    for method in ("GET", "PATCH", "DELETE"):
        r = await client.request(method, f"{env_b.api}/llm_provider_keys/{body['id']}", json={}, headers=env_a.headers)
        assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert (await client.get(f"{env_b.api}/llm_provider_keys", headers=env_a.headers)).status_code == 403
    # env_b on its own URL cannot see env_a's key: 404
    url = f"{env_b.api}/llm_provider_keys/{body['id']}"
    assert (await client.get(url, headers=env_b.headers)).status_code == 404
    assert (await client.patch(url, json={"name": "x"}, headers=env_b.headers)).status_code == 404
    assert (await client.delete(url, headers=env_b.headers)).status_code == 404
    assert (await client.get(f"{env_b.api}/llm_provider_keys", headers=env_b.headers)).json()["count"] == 0
    assert (await client.get(f"{env_a.api}/llm_provider_keys/{body['id']}", headers=env_a.headers)).status_code == 200


async def test_scopes(app, client, env_a):
    body = await create(client, env_a)
    base = f"{env_a.api}/llm_provider_keys"
    read_only = {"X-Api-Key": await add_key(app, env_a, ["evaluation:read"])}
    assert (await client.get(base, headers=read_only)).status_code == 200
    r = await client.post(base, json=KEY, headers=read_only)
    assert r.status_code == 403 and r.json()["detail"] == "API key missing required scope 'evaluation:write'"
    assert (await client.patch(f"{base}/{body['id']}", json={}, headers=read_only)).status_code == 403
    assert (await client.delete(f"{base}/{body['id']}", headers=read_only)).status_code == 403
    datasets_only = {"X-Api-Key": await add_key(app, env_a, ["dataset:read", "dataset:write"])}
    assert (await client.get(base, headers=datasets_only)).status_code == 403
    assert (await client.get(base)).status_code == 401


LOCAL = {"provider": "openai", "name": "local llama", "base_url": "http://127.0.0.1:8080/v1"}


@pytest.mark.parametrize("extra", [{}, {"api_key": None}, {"api_key": "  "}])
async def test_key_for_a_local_server_without_auth(app, client, env_a, extra):
    r = await client.post(f"{env_a.api}/llm_provider_keys", json={**LOCAL, **extra}, headers=env_a.headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["api_key_mask"] is None and body["base_url"] == LOCAL["base_url"] and body["state"] == "unknown"
    row, api_key = await load(app, env_a, body["id"])
    assert api_key is None and row.base_url == LOCAL["base_url"]
    listed = (await client.get(f"{env_a.api}/llm_provider_keys", headers=env_a.headers)).json()
    assert [k["api_key_mask"] for k in listed["results"]] == [None]


async def test_keyless_key_rules_on_patch(app, client, env_a):
    keyed = await create(client, env_a, base_url="http://127.0.0.1:8080/v1")
    url = f"{env_a.api}/llm_provider_keys/{keyed['id']}"
    # a key with a base_url may drop its secret
    r = await client.patch(url, json={"api_key": None}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["api_key_mask"] is None, r.text
    assert (await load(app, env_a, keyed["id"]))[1] is None
    # then it cannot lose its base_url too
    r = await client.patch(url, json={"base_url": None}, headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == "base_url" and r.json()["code"] == "required"
    # unless it gets a secret in the same request
    r = await client.patch(url, json={"base_url": None, "api_key": SECRET}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["api_key_mask"] == "sk-…abcd" and r.json()["base_url"] is None
    # and a key without base_url cannot drop its secret
    for payload, code in [({"api_key": None}, "null"), ({"api_key": ""}, "blank")]:
        r = await client.patch(url, json=payload, headers=env_a.headers)
        assert (r.status_code, r.json()["attr"], r.json()["code"]) == (400, "api_key", code), r.text
    assert (await load(app, env_a, keyed["id"]))[1] == SECRET
