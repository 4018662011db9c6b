"""`/v1/evaluations`: instance_id / recipe_id must exist in the tenant, on create and PATCH; PATCH itself."""

from __future__ import annotations

import uuid

from tests.conftest import add_key

INSTANCE = {"name": "bot", "kind": "openai_chat", "config": {"base_url": "http://127.0.0.1:9/v1", "model": "m"}}
RECIPE = {"name": "r", "items": [{"evaluator": {"type": "contains", "value": "ok"}}]}


async def make(client, env, path, body):
    r = await client.post(path, json=body, headers=env.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_with_links(client, env_a):
    instance = await make(client, env_a, "/v1/instances", INSTANCE)
    recipe = await make(client, env_a, "/v1/recipes", RECIPE)
    suite = await make(
        client, env_a, "/v1/evaluations", {"name": "s", "instance_id": instance["id"], "recipe_id": recipe["id"]}
    )
    assert suite["instance_id"] == instance["id"] and suite["recipe_id"] == recipe["id"]


async def test_unknown_or_foreign_links_are_422(client, env_a, env_b):
    foreign_instance = await make(client, env_b, "/v1/instances", INSTANCE)
    foreign_recipe = await make(client, env_b, "/v1/recipes", RECIPE)
    for instance_id, recipe_id in [
        (str(uuid.uuid4()), None),
        (foreign_instance["id"], None),
        (None, str(uuid.uuid4())),
        (None, foreign_recipe["id"]),
    ]:
        body = {"name": "s", "instance_id": instance_id, "recipe_id": recipe_id}
        r = await client.post("/v1/evaluations", json=body, headers=env_a.headers)
        field = "instance_id" if instance_id else "recipe_id"
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field], r.text
        assert {"loc", "msg", "type"} <= set(r.json()["detail"][0])
    body = {"name": "s", "instance_id": str(uuid.uuid4()), "recipe_id": str(uuid.uuid4())}
    r = await client.post("/v1/evaluations", json=body, headers=env_a.headers)
    assert [d["loc"] for d in r.json()["detail"]] == [["body", "instance_id"], ["body", "recipe_id"]]
    assert (await client.get("/v1/evaluations", headers=env_a.headers)).json() == []


async def test_patch_attaches_and_detaches(client, env_a):
    suite = await make(client, env_a, "/v1/evaluations", {"name": "s", "description": "d", "config": {"k": 1}})
    instance = await make(client, env_a, "/v1/instances", INSTANCE)
    recipe = await make(client, env_a, "/v1/recipes", RECIPE)
    url = f"/v1/evaluations/{suite['id']}"
    r = await client.patch(url, json={"instance_id": instance["id"]}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["instance_id"] == instance["id"] and r.json()["recipe_id"] is None
    assert r.json()["name"] == "s" and r.json()["description"] == "d" and r.json()["config"] == {"k": 1}
    r = await client.patch(
        url, json={"recipe_id": recipe["id"], "name": "t", "config": {}, "description": None}, headers=env_a.headers
    )
    body = r.json()
    assert body["recipe_id"] == recipe["id"] and body["instance_id"] == instance["id"] and body["name"] == "t"
    assert body["config"] == {} and body["description"] is None
    assert (await client.get(url, headers=env_a.headers)).json() == body
    r = await client.patch(url, json={"instance_id": None}, headers=env_a.headers)
    assert r.json()["instance_id"] is None and r.json()["recipe_id"] == recipe["id"]


async def test_patch_validation(client, env_a, env_b):
    suite = await make(client, env_a, "/v1/evaluations", {"name": "s"})
    url = f"/v1/evaluations/{suite['id']}"
    foreign = await make(client, env_b, "/v1/instances", INSTANCE)
    for payload, loc in [
        ({"instance_id": foreign["id"]}, ["body", "instance_id"]),
        ({"recipe_id": str(uuid.uuid4())}, ["body", "recipe_id"]),
        ({"instance_id": "nope"}, ["body", "instance_id"]),
        ({"name": None}, ["body", "name"]),
        ({"name": ""}, ["body", "name"]),
        ({"config": None}, ["body", "config"]),
        ({"config": []}, ["body", "config"]),
    ]:
        r = await client.patch(url, json=payload, headers=env_a.headers)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, (payload, r.text)
    assert (await client.get(url, headers=env_a.headers)).json() == suite
    assert (await client.patch(f"/v1/evaluations/{uuid.uuid4()}", json={}, headers=env_a.headers)).status_code == 404


async def test_patch_isolation_and_scopes(app, client, env_a, env_b):
    suite = await make(client, env_a, "/v1/evaluations", {"name": "s"})
    url = f"/v1/evaluations/{suite['id']}"
    assert (await client.patch(url, json={"name": "x"}, headers=env_b.headers)).status_code == 404
    read_only = {"X-Api-Key": await add_key(app, env_a, ["evaluation:read"])}
    assert (await client.patch(url, json={"name": "x"}, headers=read_only)).status_code == 403
    assert (await client.get(url, headers=env_a.headers)).json()["name"] == "s"


async def test_deleting_links_detaches_them(client, env_a):
    instance = await make(client, env_a, "/v1/instances", INSTANCE)
    recipe = await make(client, env_a, "/v1/recipes", RECIPE)
    suite = await make(
        client, env_a, "/v1/evaluations", {"name": "s", "instance_id": instance["id"], "recipe_id": recipe["id"]}
    )
    assert (await client.delete(f"/v1/instances/{instance['id']}", headers=env_a.headers)).status_code == 204
    assert (await client.delete(f"/v1/recipes/{recipe['id']}", headers=env_a.headers)).status_code == 204
    got = (await client.get(f"/v1/evaluations/{suite['id']}", headers=env_a.headers)).json()
    assert got["instance_id"] is None and got["recipe_id"] is None
