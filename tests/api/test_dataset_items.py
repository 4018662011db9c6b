"""Dataset items on the LLM-analytics surface, through HTTP."""

from __future__ import annotations


async def dataset(client, env, name="ds"):
    r = await client.post(f"{env.api}/datasets", json={"name": name}, headers=env.headers)
    return r.json()["id"]


async def test_create_with_every_field(client, env_a):
    ds = await dataset(client, env_a)
    payload = {
        "dataset": ds,
        "input": [{"role": "user", "content": "hi"}],
        "output": {"text": "hello"},
        "metadata": {"source": "prod"},
        "ref_trace_id": "trace-1",
        "ref_timestamp": "2025-01-02T03:04:05Z",
        "ref_source_id": "gen-9",
    }
    r = await client.post(f"{env_a.api}/dataset_items", json=payload, headers=env_a.headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert list(body) == [
        "id",
        "dataset",
        "input",
        "output",
        "metadata",
        "ref_trace_id",
        "ref_timestamp",
        "ref_source_id",
        "deleted",
        "created_at",
        "updated_at",
        "created_by",
        "team",
    ]
    for key in ("dataset", "input", "output", "metadata", "ref_trace_id", "ref_source_id"):
        assert body[key] == payload[key]
    assert body["ref_timestamp"] == "2025-01-02T03:04:05Z"
    assert body["deleted"] is False
    r = await client.get(f"{env_a.api}/dataset_items/{body['id']}", headers=env_a.headers)
    assert r.json() == body


async def test_scalar_json_values_round_trip(client, env_a):
    ds = await dataset(client, env_a)
    r = await client.post(
        f"{env_a.api}/dataset_items", json={"dataset": ds, "input": "plain text", "output": 42}, headers=env_a.headers
    )
    assert r.json()["input"] == "plain text" and r.json()["output"] == 42 and r.json()["metadata"] is None


async def test_dataset_required_and_must_exist_in_environment(client, env_a, env_b):
    other = await dataset(client, env_b)
    for payload, code in [({}, "required"), ({"dataset": "zzz"}, "invalid"), ({"dataset": other}, "does_not_exist")]:
        r = await client.post(f"{env_a.api}/dataset_items", json=payload, headers=env_a.headers)
        assert r.status_code == 400 and r.json()["attr"] == "dataset" and r.json()["code"] == code, payload


async def test_bad_field_values(client, env_a):
    ds = await dataset(client, env_a)
    for payload, attr in [
        ({"ref_timestamp": "yesterday"}, "ref_timestamp"),
        ({"ref_trace_id": "x" * 256}, "ref_trace_id"),
        ({"deleted": "maybe"}, "deleted"),
    ]:
        r = await client.post(f"{env_a.api}/dataset_items", json={"dataset": ds, **payload}, headers=env_a.headers)
        assert r.status_code == 400 and r.json()["attr"] == attr, payload


async def test_filter_by_dataset_and_invalid_filter(client, env_a):
    ds1, ds2 = await dataset(client, env_a, "one"), await dataset(client, env_a, "two")
    ids1 = []
    for i in range(3):
        r = await client.post(f"{env_a.api}/dataset_items", json={"dataset": ds1, "input": i}, headers=env_a.headers)
        ids1.append(r.json()["id"])
    await client.post(f"{env_a.api}/dataset_items", json={"dataset": ds2}, headers=env_a.headers)
    r = await client.get(f"{env_a.api}/dataset_items?dataset={ds1}", headers=env_a.headers)
    assert [i["id"] for i in r.json()["results"]] == ids1[::-1]
    assert (await client.get(f"{env_a.api}/dataset_items", headers=env_a.headers)).json()["count"] == 4
    for bad in ["garbage", "00000000-0000-0000-0000-000000000000"]:
        r = await client.get(f"{env_a.api}/dataset_items?dataset={bad}", headers=env_a.headers)
        assert r.status_code == 400 and r.json()["attr"] == "dataset"


async def test_soft_delete_undelete_and_405(client, env_a):
    ds = await dataset(client, env_a)
    item = (await client.post(f"{env_a.api}/dataset_items", json={"dataset": ds}, headers=env_a.headers)).json()
    url = f"{env_a.api}/dataset_items/{item['id']}"
    r = await client.delete(url, headers=env_a.headers)
    assert r.status_code == 405 and r.content == b""
    assert (await client.patch(url, json={"deleted": True}, headers=env_a.headers)).status_code == 200
    assert (await client.get(url, headers=env_a.headers)).status_code == 404
    assert (await client.get(f"{env_a.api}/dataset_items", headers=env_a.headers)).json()["count"] == 0
    assert (await client.patch(url, json={"deleted": False}, headers=env_a.headers)).status_code == 200
    assert (await client.get(url, headers=env_a.headers)).status_code == 200


async def test_patch_moves_item_and_put_replaces(client, env_a):
    ds1, ds2 = await dataset(client, env_a, "one"), await dataset(client, env_a, "two")
    item = (
        await client.post(
            f"{env_a.api}/dataset_items", json={"dataset": ds1, "input": "a", "output": "b"}, headers=env_a.headers
        )
    ).json()
    url = f"{env_a.api}/dataset_items/{item['id']}"
    r = await client.patch(url, json={"dataset": ds2}, headers=env_a.headers)
    assert r.json()["dataset"] == ds2 and r.json()["input"] == "a"
    r = await client.patch(url, json={"dataset": None}, headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == "dataset"
    r = await client.put(url, json={"dataset": ds1, "input": "new"}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["output"] is None and r.json()["input"] == "new"
