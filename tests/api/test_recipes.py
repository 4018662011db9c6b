"""`/v1/recipes` through HTTP: CRUD, item validation (references, inline configs), isolation, scopes, load_recipe."""

from __future__ import annotations

import uuid

import pytest

from assay.errors import ConflictError, ResourceNotFound
from assay.evaluators.recipe import RecipeSpec
from assay.storage.db import make_sessionmaker
from assay.storage.recipes import load_recipe
from tests.conftest import add_key

CONTAINS = {"type": "contains", "value": "refund"}


async def make_evaluator(client, env, **overrides):
    body = {
        "name": "helpful",
        "evaluation_type": "llm_judge",
        "evaluation_config": {"prompt": "Helpful?"},
        "output_type": "boolean",
        "output_config": {"allows_na": True},
        **overrides,
    }
    r = await client.post(f"{env.api}/evaluations", json=body, headers=env.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def make_key(client, env, provider="openai"):
    body = {"provider": provider, "name": "k", "api_key": "sk-test-0000000000000000"}
    r = await client.post(f"{env.api}/llm_provider_keys", json=body, headers=env.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def create(client, env, items, **fields):
    r = await client.post("/v1/recipes", json={"name": "r", "items": items, **fields}, headers=env.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def load(app, env, recipe_id):
    async with make_sessionmaker(app.state.engine)() as session:
        return await load_recipe(session=session, environment_id=uuid.UUID(env.id), recipe_id=uuid.UUID(recipe_id))


async def test_crud(client, env_a):
    evaluator = await make_evaluator(client, env_a)
    items = [{"evaluator": evaluator["id"], "weight": 2, "required": True}, {"evaluator": CONTAINS}]
    body = await create(client, env_a, items, description="d", pass_threshold=80)
    assert sorted(body) == sorted(
        ["id", "tenant_id", "name", "description", "items", "pass_threshold", "created_at", "updated_at"]
    )
    assert body["tenant_id"] == env_a.id and body["description"] == "d" and body["pass_threshold"] == 80
    assert body["items"][0] == {"evaluator": evaluator["id"], "weight": 2.0, "required": True}
    assert body["items"][1]["evaluator"]["type"] == "contains" and body["items"][1]["weight"] == 1.0
    assert body["items"][1]["required"] is False
    url = f"/v1/recipes/{body['id']}"
    assert (await client.get(url, headers=env_a.headers)).json() == body
    second = await create(client, env_a, [{"evaluator": CONTAINS}])
    assert second["pass_threshold"] == 70 and second["description"] is None
    assert [r["id"] for r in (await client.get("/v1/recipes", headers=env_a.headers)).json()] == [
        second["id"],
        body["id"],
    ]
    r = await client.patch(url, json={"name": "renamed", "pass_threshold": 50}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["name"] == "renamed" and r.json()["items"] == body["items"]
    r = await client.patch(
        url,
        json={"items": [{"evaluator": {"type": "equals", "value": "x"}}], "description": None},
        headers=env_a.headers,
    )
    assert r.status_code == 200 and [i["evaluator"]["type"] for i in r.json()["items"]] == ["equals"]
    assert r.json()["description"] is None and r.json()["pass_threshold"] == 50
    r = await client.delete(url, headers=env_a.headers)
    assert r.status_code == 204 and r.content == b""
    assert (await client.get(url, headers=env_a.headers)).status_code == 404
    assert (await client.delete(url, headers=env_a.headers)).status_code == 404


async def test_inline_judge_and_hog(client, env_a):
    key = await make_key(client, env_a)
    judge = {
        "type": "llm_judge",
        "prompt": "Polite?",
        "output_type": "numeric",
        "allows_na": True,
        "model": {"provider": "openai", "model": "gpt-test", "provider_key_id": key["id"]},
    }
    hog = {"type": "hog", "source": "return length(output) > 3"}
    body = await create(client, env_a, [{"evaluator": judge}, {"evaluator": hog}, {"evaluator": {"type": "llm_judge"}}])
    stored_judge, stored_hog, default_judge = (i["evaluator"] for i in body["items"])
    assert stored_judge["model"]["provider_key_id"] == key["id"] and stored_judge["output_type"] == "numeric"
    assert stored_hog["source"] == hog["source"] and isinstance(stored_hog["bytecode"], list)
    assert (
        default_judge["prompt"] is None and default_judge["output_type"] == "boolean" and default_judge["model"] is None
    )
    # what is read back can be sent back
    r = await client.patch(f"/v1/recipes/{body['id']}", json={"items": body["items"]}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["items"] == body["items"]


@pytest.mark.parametrize(
    ("evaluator", "loc"),
    [
        ("not-a-uuid", []),
        ({"type": "vibes"}, ["type"]),
        ({"type": "regex", "pattern": "("}, ["pattern"]),
        ({"type": "contains"}, ["value"]),
        ({"type": "hog", "source": "return ("}, ["source"]),
        ({"type": "hog", "source": "  "}, ["source"]),
        ({"type": "hog"}, ["source"]),
        ({"type": "llm_judge", "output_type": "stars"}, ["output_type"]),
        ({"type": "llm_judge", "prompt": " "}, ["prompt"]),
        ({"type": "llm_judge", "model": {"provider": "openai"}}, ["model", "model"]),
        ({"type": "llm_judge", "model": {"provider": "x", "model": "m"}}, ["model", "provider"]),
        ({"type": "llm_judge", "surprise": 1}, ["surprise"]),
        ({"no_type": 1}, []),
    ],
)
async def test_invalid_items_are_422(client, env_a, evaluator, loc):
    items = [{"evaluator": CONTAINS}, {"evaluator": evaluator}]
    r = await client.post("/v1/recipes", json={"name": "r", "items": items}, headers=env_a.headers)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail[0]["loc"][: 4 + len(loc)] == ["body", "items", 1, "evaluator", *loc], detail
    assert {"loc", "msg", "type"} <= set(detail[0])
    assert (await client.get("/v1/recipes", headers=env_a.headers)).json() == []


async def test_references_must_exist_in_the_environment(client, env_a, env_b):
    other = await make_evaluator(client, env_b)
    deleted = await make_evaluator(client, env_a)
    r = await client.patch(f"{env_a.api}/evaluations/{deleted['id']}", json={"deleted": True}, headers=env_a.headers)
    assert r.status_code == 200
    for evaluator_id in (other["id"], deleted["id"], str(uuid.uuid4())):
        r = await client.post(
            "/v1/recipes", json={"name": "r", "items": [{"evaluator": evaluator_id}]}, headers=env_a.headers
        )
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "items", 0, "evaluator"]
        assert r.json()["detail"][0]["type"] == "does_not_exist"
    other_key = await make_key(client, env_b)
    own_anthropic = await make_key(client, env_a, provider="anthropic")
    for key_id, loc in [(other_key["id"], "provider_key_id"), (own_anthropic["id"], "provider")]:
        judge = {"type": "llm_judge", "model": {"provider": "openai", "model": "m", "provider_key_id": key_id}}
        r = await client.post("/v1/recipes", json={"name": "r", "items": [{"evaluator": judge}]}, headers=env_a.headers)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "items", 0, "evaluator", "model", loc]


async def test_body_validation(client, env_a):
    for payload, loc in [
        ({"items": [{"evaluator": CONTAINS}]}, ["body", "name"]),
        ({"name": "r"}, ["body", "items"]),
        ({"name": "r", "items": []}, ["body", "items"]),
        ({"name": "r", "items": [{"evaluator": CONTAINS, "weight": 0}]}, ["body", "items", 0, "weight"]),
        ({"name": "r", "items": [{"evaluator": CONTAINS}], "pass_threshold": 101}, ["body", "pass_threshold"]),
        ({"name": "r", "items": [{"evaluator": CONTAINS, "extra": 1}]}, ["body", "items", 0, "extra"]),
    ]:
        r = await client.post("/v1/recipes", json=payload, headers=env_a.headers)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, (payload, r.text)
    recipe = await create(client, env_a, [{"evaluator": CONTAINS}])
    for payload, loc in [
        ({"items": None}, ["body", "items"]),
        ({"name": None}, ["body", "name"]),
        ({"items": [{"evaluator": {"type": "nope"}}]}, ["body", "items", 0, "evaluator", "type"]),
    ]:
        r = await client.patch(f"/v1/recipes/{recipe['id']}", json=payload, headers=env_a.headers)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, (payload, r.text)


async def test_load_recipe_resolves_references(app, client, env_a, env_b):
    key = await make_key(client, env_a)
    evaluator = await make_evaluator(
        client, env_a, model_configuration={"provider": "openai", "model": "gpt-judge", "provider_key_id": key["id"]}
    )
    hog = await make_evaluator(
        client,
        env_a,
        name="short",
        evaluation_type="hog",
        evaluation_config={"source": "return true"},
        output_config={},
    )
    items = [
        {"evaluator": evaluator["id"], "weight": 3, "required": True},
        {"evaluator": hog["id"]},
        {"evaluator": CONTAINS},
    ]
    recipe = await create(client, env_a, items, pass_threshold=60)
    loaded = await load(app, env_a, recipe["id"])
    assert loaded["id"] == recipe["id"] and loaded["pass_threshold"] == 60
    judge, code, check = loaded["items"]
    assert judge["weight"] == 3 and judge["required"] is True
    assert judge["evaluator"] == {
        "type": "llm_judge",
        "name": "helpful",
        "evaluator_id": evaluator["id"],
        "output_type": "boolean",
        "allows_na": True,
        "evaluation_config": {"prompt": "Helpful?"},
        "output_config": {"allows_na": True},
        "prompt": "Helpful?",
        "model": {"provider": "openai", "model": "gpt-judge", "provider_key_id": key["id"]},
    }
    assert code["evaluator"]["type"] == "hog" and code["evaluator"]["source"] == "return true"
    assert isinstance(code["evaluator"]["bytecode"], list) and code["evaluator"]["evaluator_id"] == hog["id"]
    assert check["evaluator"] == recipe["items"][2]["evaluator"]
    RecipeSpec.model_validate({"items": loaded["items"], "pass_threshold": loaded["pass_threshold"]})
    with pytest.raises(ResourceNotFound):
        await load(app, env_b, recipe["id"])
    await client.patch(f"{env_a.api}/evaluations/{hog['id']}", json={"deleted": True}, headers=env_a.headers)
    with pytest.raises(ConflictError, match="item 1"):
        await load(app, env_a, recipe["id"])


async def test_tenant_isolation(client, env_a, env_b):
    recipe = await create(client, env_a, [{"evaluator": CONTAINS}])
    url = f"/v1/recipes/{recipe['id']}"
    assert (await client.get(url, headers=env_b.headers)).status_code == 404
    assert (await client.patch(url, json={"name": "x"}, headers=env_b.headers)).status_code == 404
    assert (await client.delete(url, headers=env_b.headers)).status_code == 404
    assert (await client.get("/v1/recipes", headers=env_b.headers)).json() == []
    assert (await client.get(url, headers=env_a.headers)).json() == recipe


async def test_scopes(app, client, env_a):
    recipe = await create(client, env_a, [{"evaluator": CONTAINS}])
    read_only = {"X-Api-Key": await add_key(app, env_a, ["evaluation:read"])}
    assert (await client.get("/v1/recipes", headers=read_only)).status_code == 200
    assert (await client.get(f"/v1/recipes/{recipe['id']}", headers=read_only)).status_code == 200
    body = {"name": "r", "items": [{"evaluator": CONTAINS}]}
    assert (await client.post("/v1/recipes", json=body, headers=read_only)).status_code == 403
    assert (await client.patch(f"/v1/recipes/{recipe['id']}", json={}, headers=read_only)).status_code == 403
    assert (await client.delete(f"/v1/recipes/{recipe['id']}", headers=read_only)).status_code == 403
    assert (await client.get("/v1/recipes")).status_code == 401


async def test_items_scoped_to_tagged_cases(client, env_a, app):
    item = {"evaluator": CONTAINS, "cases_tagged": ["refunds"]}
    body = await create(client, env_a, [item, {"evaluator": CONTAINS}])
    assert body["items"][0]["cases_tagged"] == ["refunds"] and "cases_tagged" not in body["items"][1]
    loaded = await load(app, env_a, body["id"])
    assert loaded["items"][0]["cases_tagged"] == ["refunds"] and "cases_tagged" not in loaded["items"][1]
    for bad in ([], [" "], "refunds"):
        r = await client.post(
            "/v1/recipes",
            json={"name": "r", "items": [{"evaluator": CONTAINS, "cases_tagged": bad}]},
            headers=env_a.headers,
        )
        assert r.status_code == 422, (bad, r.text)
