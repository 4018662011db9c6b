"""`/v1/instances` through HTTP: CRUD, validation, secrets (write-only, encrypted at rest), isolation."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from assay.engine.instance_spec import load_instance_spec
from assay.storage.db import make_sessionmaker
from assay.storage.run_tables import InstanceRow
from assay.targets.spec import HttpSpec, OpenAIChatSpec
from tests.conftest import add_key

SECRET = "sk-live-Zq8vS3cr3tV4lu3-0001"
HEADER_SECRET = "tok-Hdr5ecretValue-0002"
CHAT = {
    "name": "support bot",
    "kind": "openai_chat",
    "config": {
        "base_url": "http://127.0.0.1:9/v1/",
        "model": "gpt-test",
        "system_prompt": "Be brief.",
        "api_key": SECRET,
    },
}
HTTP = {
    "name": "http agent",
    "kind": "http",
    "config": {
        "url": "https://agent.example.com/chat",
        "headers": {"Authorization": f"Bearer {HEADER_SECRET}", "X-Team": "blue"},
        "body_template": {"q": "{{input_message}}"},
        "response": {"text": "$.answer"},
    },
}


def assert_no_secret(*responses) -> None:
    for r in responses:
        assert SECRET not in r.text and HEADER_SECRET not in r.text, r.text


async def create(client, env, body=CHAT):
    r = await client.post("/v1/instances", json=body, headers=env.headers)
    assert r.status_code == 201, r.text
    assert_no_secret(r)
    return r.json()


async def stored_row(app, instance_id: str) -> InstanceRow:
    async with make_sessionmaker(app.state.engine)() as session:
        row = await session.scalar(select(InstanceRow).where(InstanceRow.id == uuid.UUID(instance_id)))
        assert row is not None
        return row


async def load(app, env, instance_id: str):
    async with make_sessionmaker(app.state.engine)() as session:
        return await load_instance_spec(
            session=session,
            environment_id=uuid.UUID(env.id),
            instance_id=uuid.UUID(instance_id),
            secret_key=app.state.settings.secret_key,
        )


async def test_crud_round_trip(client, env_a):
    body = await create(client, env_a)
    assert sorted(body) == ["config", "created_at", "id", "kind", "name", "tenant_id", "updated_at"]
    assert body["tenant_id"] == env_a.id and body["kind"] == "openai_chat" and body["name"] == "support bot"
    assert body["config"]["api_key"] == "********" and body["config"]["base_url"] == "http://127.0.0.1:9/v1"
    assert body["config"]["model"] == "gpt-test" and "kind" not in body["config"]
    got = await client.get(f"/v1/instances/{body['id']}", headers=env_a.headers)
    assert got.status_code == 200 and got.json() == body
    second = await create(client, env_a, HTTP)
    listing = await client.get("/v1/instances", headers=env_a.headers)
    assert [i["id"] for i in listing.json()] == [second["id"], body["id"]]
    assert_no_secret(got, listing)
    r = await client.patch(f"/v1/instances/{body['id']}", json={"name": "renamed"}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["name"] == "renamed" and r.json()["config"] == body["config"]
    r = await client.delete(f"/v1/instances/{body['id']}", headers=env_a.headers)
    assert r.status_code == 204 and r.content == b""
    assert (await client.get(f"/v1/instances/{body['id']}", headers=env_a.headers)).status_code == 404
    assert (await client.delete(f"/v1/instances/{body['id']}", headers=env_a.headers)).status_code == 404


async def test_http_headers_secret_by_name_and_flag(client, env_a):
    payload = {
        **HTTP,
        "config": {
            **HTTP["config"],
            "headers": {**HTTP["config"]["headers"], "X-Custom": {"value": "plain-but-hidden", "secret": True}},
        },
    }
    body = await create(client, env_a, payload)
    headers = body["config"]["headers"]
    assert headers["Authorization"] == {"value": "********", "secret": True}
    assert headers["X-Team"] == {"value": "********", "secret": True}  # secret unless marked public
    assert headers["X-Custom"] == {"value": "********", "secret": True}


async def test_secrets_encrypted_at_rest_and_loader_decrypts(app, client, env_a):
    chat = await create(client, env_a)
    http = await create(client, env_a, HTTP)
    for created in (chat, http):
        row = await stored_row(app, created["id"])
        assert (
            row.encrypted_secrets and SECRET not in row.encrypted_secrets and HEADER_SECRET not in row.encrypted_secrets
        )
        assert SECRET not in str(row.config) and HEADER_SECRET not in str(row.config)
    spec = await load(app, env_a, chat["id"])
    assert isinstance(spec, OpenAIChatSpec) and spec.api_key is not None
    assert spec.api_key.get_secret_value() == SECRET and spec.system_prompt == "Be brief."
    spec = await load(app, env_a, http["id"])
    assert isinstance(spec, HttpSpec)
    assert spec.header_values() == {"Authorization": f"Bearer {HEADER_SECRET}", "X-Team": "blue"}


async def test_instance_without_secrets(app, client, env_a):
    body = await create(client, env_a, {**CHAT, "config": {"base_url": "http://localhost:11434/v1", "model": "llama"}})
    assert body["config"]["api_key"] is None
    assert (await stored_row(app, body["id"])).encrypted_secrets is None
    spec = await load(app, env_a, body["id"])
    assert isinstance(spec, OpenAIChatSpec) and spec.api_key is None


async def test_patch_keeps_secrets(app, client, env_a):
    chat = await create(client, env_a)
    base = f"/v1/instances/{chat['id']}"
    r = await client.patch(base, json={"config": {"model": "gpt-next"}}, headers=env_a.headers)
    assert (
        r.status_code == 200
        and r.json()["config"]["model"] == "gpt-next"
        and r.json()["config"]["api_key"] == "********"
    )
    r2 = await client.patch(base, json={"config": r.json()["config"]}, headers=env_a.headers)  # read-back round trip
    assert r2.status_code == 200
    assert_no_secret(r, r2)
    spec = await load(app, env_a, chat["id"])
    assert spec.model == "gpt-next" and spec.api_key.get_secret_value() == SECRET
    r = await client.patch(base, json={"config": {"api_key": "sk-new-key-000000"}}, headers=env_a.headers)
    assert r.status_code == 200 and "sk-new-key-000000" not in r.text
    assert (await load(app, env_a, chat["id"])).api_key.get_secret_value() == "sk-new-key-000000"
    r = await client.patch(base, json={"config": {"api_key": None}}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["config"]["api_key"] is None
    assert (await load(app, env_a, chat["id"])).api_key is None

    http = await create(client, env_a, HTTP)
    new_headers = {"Authorization": {"value": "********"}, "X-Team": "red"}
    r = await client.patch(
        f"/v1/instances/{http['id']}", json={"config": {"headers": new_headers}}, headers=env_a.headers
    )
    assert r.status_code == 200, r.text
    assert_no_secret(r)
    spec = await load(app, env_a, http["id"])
    assert spec.header_values() == {"Authorization": f"Bearer {HEADER_SECRET}", "X-Team": "red"}
    # a kept secret cannot be turned into a shown value
    r = await client.patch(
        f"/v1/instances/{http['id']}",
        json={"config": {"headers": {"Authorization": {"value": "********", "secret": False}}}},
        headers=env_a.headers,
    )
    assert r.status_code == 200 and r.json()["config"]["headers"]["Authorization"]["value"] == "********"
    assert_no_secret(r)


async def test_patch_changing_kind_needs_a_complete_config(client, env_a):
    chat = await create(client, env_a)
    base = f"/v1/instances/{chat['id']}"
    r = await client.patch(base, json={"kind": "http"}, headers=env_a.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "config", "url"]
    r = await client.patch(
        base, json={"kind": "http", "config": {"url": "https://a.example.com/x"}}, headers=env_a.headers
    )
    assert r.status_code == 200 and r.json()["kind"] == "http" and "api_key" not in r.json()["config"]
    assert_no_secret(r)


async def test_validation_errors_never_echo_secrets(client, env_a):
    cases = [
        ({**CHAT, "config": {**CHAT["config"], "base_url": "not a url"}}, ["body", "config", "base_url"]),
        ({**CHAT, "config": {**CHAT["config"], "model": ""}}, ["body", "config", "model"]),
        ({**CHAT, "config": {**CHAT["config"], "surprise": SECRET}}, ["body", "config", "surprise"]),
        ({**CHAT, "config": {**CHAT["config"], "api_key": [SECRET]}}, ["body", "config", "api_key"]),
        ({**CHAT, "config": {**CHAT["config"], "kind": "http"}}, ["body", "config", "kind"]),
        ({**CHAT, "config": {**CHAT["config"], "api_key": "********"}}, ["body", "config", "api_key"]),
        ({**CHAT, "kind": "grpc"}, ["body", "kind"]),
        ({**CHAT, "config": SECRET}, ["body", "config"]),
        ({"kind": "openai_chat", "config": CHAT["config"]}, ["body", "name"]),
        ({**CHAT, "name": ""}, ["body", "name"]),
        ({**HTTP, "config": {**HTTP["config"], "url": "ftp://x"}}, ["body", "config", "url"]),
        ({**HTTP, "config": {**HTTP["config"], "headers": {"Bad Name": HEADER_SECRET}}}, ["body", "config", "headers"]),
        ({**HTTP, "config": {**HTTP["config"], "headers": {"Authorization": [HEADER_SECRET]}}}, None),
        ({**HTTP, "config": {**HTTP["config"], "method": SECRET}}, ["body", "config", "method"]),
    ]
    for payload, loc in cases:
        r = await client.post("/v1/instances", json=payload, headers=env_a.headers)
        assert r.status_code == 422, (payload, r.text)
        assert_no_secret(r)
        detail = r.json()["detail"]
        assert all({"loc", "msg", "type"} <= set(d) for d in detail)
        if loc is not None:
            assert detail[0]["loc"][: len(loc)] == loc, (payload, detail)
    r = await client.post("/v1/instances", content=f'{{"name": "x", "config": "{SECRET}"', headers=env_a.headers)
    assert r.status_code == 422
    assert_no_secret(r)
    assert (await client.get("/v1/instances", headers=env_a.headers)).json() == []


async def test_patch_validation(client, env_a):
    chat = await create(client, env_a)
    base = f"/v1/instances/{chat['id']}"
    for payload, loc in [
        ({"name": None}, ["body", "name"]),
        ({"config": None}, ["body", "config"]),
        ({"config": {"base_url": "x"}}, ["body", "config", "base_url"]),
        ({"kind": None}, ["body", "kind"]),
    ]:
        r = await client.patch(base, json=payload, headers=env_a.headers)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, (payload, r.text)
        assert_no_secret(r)
    assert (await client.patch(f"/v1/instances/{uuid.uuid4()}", json={}, headers=env_a.headers)).status_code == 404
    assert (await client.get("/v1/instances/nope", headers=env_a.headers)).status_code == 422


async def test_tenant_isolation(client, env_a, env_b):
    chat = await create(client, env_a)
    url = f"/v1/instances/{chat['id']}"
    assert (await client.get(url, headers=env_b.headers)).status_code == 404
    assert (await client.patch(url, json={"name": "x"}, headers=env_b.headers)).status_code == 404
    assert (await client.delete(url, headers=env_b.headers)).status_code == 404
    assert (await client.get("/v1/instances", headers=env_b.headers)).json() == []
    got = await client.get(url, headers=env_a.headers)
    assert got.status_code == 200 and got.json()["name"] == "support bot"


async def test_scopes(app, client, env_a):
    chat = await create(client, env_a)
    read_only = {"X-Api-Key": await add_key(app, env_a, ["evaluation:read"])}
    assert (await client.get("/v1/instances", headers=read_only)).status_code == 200
    assert (await client.get(f"/v1/instances/{chat['id']}", headers=read_only)).status_code == 200
    assert (await client.post("/v1/instances", json=CHAT, headers=read_only)).status_code == 403
    assert (await client.patch(f"/v1/instances/{chat['id']}", json={}, headers=read_only)).status_code == 403
    assert (await client.delete(f"/v1/instances/{chat['id']}", headers=read_only)).status_code == 403
    datasets_only = {"X-Api-Key": await add_key(app, env_a, ["dataset:read", "dataset:write"])}
    assert (await client.get("/v1/instances", headers=datasets_only)).status_code == 403
    assert (await client.get("/v1/instances")).status_code == 401


async def test_loader_is_scoped_to_the_environment(app, client, env_a, env_b):
    import pytest

    from assay.errors import ResourceNotFound

    chat = await create(client, env_a)
    with pytest.raises(ResourceNotFound):
        await load(app, env_b, chat["id"])


PASSWORD = "pw-Hunter2Hunter2-0003"
QUERY_SECRET = "qk-Qu3ryS3cretKey-0004"


async def test_every_header_value_is_secret_unless_marked_public(app, client, env_a):
    headers = {
        "X-Password": PASSWORD,
        "X-Auth": "xa-auth-value-0005",
        "Authentication": {"value": "an-auth-value-0006", "secret": False},  # its name keeps it secret
        "X-Api-Token": {"value": "api-token-value-0008", "secret": "no"},
        "X-Team": "blue-team-0007",
        "X-Shown": {"value": "shown-value", "secret": False},
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": {"value": "agent/1.0", "secret": True},
    }
    created = await create(client, env_a, {**HTTP, "config": {**HTTP["config"], "headers": headers}})
    got = await client.get(f"/v1/instances/{created['id']}", headers=env_a.headers)
    listing = await client.get("/v1/instances", headers=env_a.headers)
    masked = {"value": "********", "secret": True}
    expected = {
        "X-Password": masked,
        "X-Auth": masked,
        "Authentication": masked,
        "X-Api-Token": masked,
        "X-Team": masked,
        "X-Shown": {"value": "shown-value", "secret": False},
        "Content-Type": {"value": "application/json", "secret": False},
        "Accept": {"value": "application/json", "secret": False},
        "User-Agent": masked,
    }
    for body in (created, got.json(), listing.json()[0]):
        assert body["config"]["headers"] == expected
    hidden = [
        PASSWORD,
        "xa-auth-value-0005",
        "an-auth-value-0006",
        "api-token-value-0008",
        "blue-team-0007",
        "agent/1.0",
    ]
    row = await stored_row(app, created["id"])
    for value in hidden:
        assert value not in got.text and value not in listing.text
        assert value not in str(row.config) and value not in (row.encrypted_secrets or "")
    spec = await load(app, env_a, created["id"])
    assert spec.header_values() == {name: v["value"] if isinstance(v, dict) else v for name, v in headers.items()}


async def test_url_query_values_are_secret_unless_named_public(app, client, env_a):
    url = f"https://agent.example.com/chat?key={QUERY_SECRET}&api-version=2024-06-01&mode=fast&empty="
    config = {**HTTP["config"], "url": url, "public_query": ["api-version"]}
    created = await create(client, env_a, {**HTTP, "config": config})
    shown = "https://agent.example.com/chat?key=********&api-version=2024-06-01&mode=********&empty="
    assert created["config"]["url"] == shown and created["config"]["public_query"] == ["api-version"]
    base = f"/v1/instances/{created['id']}"
    got = await client.get(base, headers=env_a.headers)
    assert got.json()["config"]["url"] == shown and QUERY_SECRET not in got.text
    row = await stored_row(app, created["id"])
    assert QUERY_SECRET not in str(row.config) and QUERY_SECRET not in (row.encrypted_secrets or "")
    assert (await load(app, env_a, created["id"])).url == url

    # read-back round trips keep the stored values, by parameter name
    r = await client.patch(base, json={"config": got.json()["config"]}, headers=env_a.headers)
    assert r.status_code == 200 and QUERY_SECRET not in r.text
    moved = "https://other.example.com/v2?mode=********&key=********"
    r = await client.patch(base, json={"config": {"url": moved}}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["config"]["url"] == moved
    assert (await load(app, env_a, created["id"])).url == f"https://other.example.com/v2?mode=fast&key={QUERY_SECRET}"
    # a kept secret cannot be made public without sending it; an unknown placeholder is refused
    r = await client.patch(base, json={"config": {"public_query": ["key"]}}, headers=env_a.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "config", "public_query"]
    assert QUERY_SECRET not in r.text
    r = await client.patch(
        base, json={"config": {"url": "https://a.example.com/x?token=********"}}, headers=env_a.headers
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "config", "url"]
    # sending the value itself with the name public shows it
    r = await client.patch(
        base,
        json={"config": {"url": "https://a.example.com/x?key=open", "public_query": ["key"]}},
        headers=env_a.headers,
    )
    assert r.status_code == 200 and r.json()["config"]["url"] == "https://a.example.com/x?key=open"

    chat = {**CHAT, "config": {**CHAT["config"], "base_url": f"http://127.0.0.1:9/v1?api-key={QUERY_SECRET}"}}
    created = await create(client, env_a, chat)
    assert created["config"]["base_url"] == "http://127.0.0.1:9/v1?api-key=********"
    assert (await load(app, env_a, created["id"])).base_url == f"http://127.0.0.1:9/v1?api-key={QUERY_SECRET}"
    bad = {**HTTP, "config": {**HTTP["config"], "url": f"ftp://agent.example.com/?key={QUERY_SECRET}"}}
    r = await client.post("/v1/instances", json=bad, headers=env_a.headers)
    assert r.status_code == 422 and QUERY_SECRET not in r.text
