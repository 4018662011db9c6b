"""Datasets on the LLM-analytics surface, through HTTP."""

from __future__ import annotations

import uuid


async def create(client, env, **body):
    body.setdefault("name", "ds")
    r = await client.post(f"{env.api}/datasets", json=body, headers=env.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_returns_201_with_every_field(client, env_a):
    r = await client.post(
        f"{env_a.api}/datasets",
        json={"name": "golden", "description": "d", "metadata": {"k": [1, 2]}, "team": 999, "created_by": "x"},
        headers=env_a.headers,
    )
    assert r.status_code == 201
    body = r.json()
    assert list(body) == [
        "id",
        "name",
        "description",
        "metadata",
        "created_at",
        "updated_at",
        "deleted",
        "created_by",
        "team",
    ]
    assert body["name"] == "golden"
    assert body["metadata"] == {"k": [1, 2]}
    assert body["deleted"] is False
    assert body["team"] == env_a.id  # the body's team is ignored
    assert body["created_by"]["uuid"] == env_a.key_id
    uuid.UUID(body["id"])
    assert body["created_at"].endswith("Z")


async def test_defaults_for_optional_fields(client, env_a):
    body = await create(client, env_a, name="bare")
    assert body["description"] is None
    assert body["metadata"] is None


async def test_name_is_required_not_blank_and_bounded(client, env_a):
    cases = [
        ({}, "required"),
        ({"name": ""}, "blank"),
        ({"name": "   "}, "blank"),
        ({"name": None}, "null"),
        ({"name": "x" * 401}, "max_length"),
        ({"name": 5}, "invalid"),
    ]
    for payload, code in cases:
        r = await client.post(f"{env_a.api}/datasets", json=payload, headers=env_a.headers)
        assert r.status_code == 400, payload
        assert r.json() == {"type": "validation_error", "code": code, "detail": r.json()["detail"], "attr": "name"}
    r = await client.get(f"{env_a.api}/datasets", headers=env_a.headers)
    assert r.json()["count"] == 0


async def test_list_envelope_newest_first_and_pagination(client, env_a):
    ids = [(await create(client, env_a, name=f"d{i}"))["id"] for i in range(5)]
    r = await client.get(f"{env_a.api}/datasets", headers=env_a.headers)
    body = r.json()
    assert body["count"] == 5 and body["next"] is None and body["previous"] is None
    assert [d["id"] for d in body["results"]] == ids[::-1]

    r = await client.get(f"{env_a.api}/datasets?limit=2&offset=2", headers=env_a.headers)
    body = r.json()
    assert [d["id"] for d in body["results"]] == ids[::-1][2:4]
    assert body["next"] == "http://testserver" + f"{env_a.api}/datasets?limit=2&offset=4"
    assert body["previous"] == "http://testserver" + f"{env_a.api}/datasets?limit=2"

    r = await client.get(f"{env_a.api}/datasets?limit=2&offset=50", headers=env_a.headers)
    assert r.status_code == 200 and r.json()["results"] == [] and r.json()["count"] == 5
    r = await client.get(f"{env_a.api}/datasets?limit=50", headers=env_a.headers)
    assert len(r.json()["results"]) == 5 and r.json()["next"] is None


async def test_bad_pagination_parameters_are_400(client, env_a):
    for query, attr in [
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("offset=-5", "offset"),
        ("offset=x", "offset"),
        ("limit=0", "limit"),
    ]:
        r = await client.get(f"{env_a.api}/datasets?{query}", headers=env_a.headers)
        assert r.status_code == 400, query
        assert r.json()["attr"] == attr and r.json()["type"] == "validation_error"


async def test_search_matches_name_description_and_metadata_text(client, env_a):
    a = await create(client, env_a, name="Support answers")
    b = await create(client, env_a, name="other", description="about SUPPORT tickets")
    c = await create(client, env_a, name="third", metadata={"supportLevel": 2})
    await create(client, env_a, name="unrelated")
    r = await client.get(f"{env_a.api}/datasets", params={"search": "support"}, headers=env_a.headers)
    assert {d["id"] for d in r.json()["results"]} == {a["id"], b["id"], c["id"]}
    r = await client.get(f"{env_a.api}/datasets", params={"search": "100%_"}, headers=env_a.headers)
    assert r.json()["count"] == 0
    r = await client.get(f"{env_a.api}/datasets", params={"search": ""}, headers=env_a.headers)
    assert r.json()["count"] == 4


async def test_order_by_and_bad_value(client, env_a):
    first = await create(client, env_a, name="first")
    second = await create(client, env_a, name="second")
    await client.patch(f"{env_a.api}/datasets/{first['id']}", json={"description": "touched"}, headers=env_a.headers)
    r = await client.get(f"{env_a.api}/datasets?order_by=created_at", headers=env_a.headers)
    assert [d["id"] for d in r.json()["results"]] == [first["id"], second["id"]]
    r = await client.get(f"{env_a.api}/datasets?order_by=-updated_at", headers=env_a.headers)
    assert [d["id"] for d in r.json()["results"]] == [first["id"], second["id"]]
    r = await client.get(f"{env_a.api}/datasets?order_by=name", headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == "order_by" and r.json()["code"] == "invalid_choice"


async def test_id_in_filter(client, env_a):
    ids = [(await create(client, env_a, name=f"d{i}"))["id"] for i in range(3)]
    r = await client.get(f"{env_a.api}/datasets", params={"id__in": f"{ids[0]},{ids[2]}"}, headers=env_a.headers)
    assert {d["id"] for d in r.json()["results"]} == {ids[0], ids[2]}
    r = await client.get(f"{env_a.api}/datasets", params={"id__in": "not-a-uuid"}, headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == "id__in"


async def test_soft_delete_hides_and_patch_restores(client, env_a):
    d = await create(client, env_a, name="temp")
    url = f"{env_a.api}/datasets/{d['id']}"
    r = await client.delete(url, headers=env_a.headers)
    assert r.status_code == 405 and r.content == b""
    r = await client.patch(url, json={"deleted": True}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert (await client.get(url, headers=env_a.headers)).status_code == 404
    assert (await client.get(f"{env_a.api}/datasets", headers=env_a.headers)).json()["count"] == 0
    r = await client.patch(url, json={"name": "renamed while deleted"}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["deleted"] is True and r.json()["name"] == "renamed while deleted"
    r = await client.patch(url, json={"deleted": False}, headers=env_a.headers)
    assert r.status_code == 200
    assert (await client.get(url, headers=env_a.headers)).json()["name"] == "renamed while deleted"


async def test_patch_updates_only_given_fields_and_put_replaces(client, env_a):
    d = await create(client, env_a, name="n", description="keep", metadata={"a": 1})
    url = f"{env_a.api}/datasets/{d['id']}"
    r = await client.patch(url, json={"metadata": {"b": 2}}, headers=env_a.headers)
    assert r.json()["description"] == "keep" and r.json()["metadata"] == {"b": 2}
    assert r.json()["updated_at"] >= d["updated_at"]
    r = await client.patch(url, json={"name": None}, headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == "name"
    r = await client.put(url, json={"name": "replaced"}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["description"] is None and r.json()["metadata"] is None
    r = await client.put(url, json={"description": "no name"}, headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == "name"


async def test_unknown_and_malformed_ids_are_404(client, env_a):
    for ident in [str(uuid.uuid4()), "nope"]:
        r = await client.get(f"{env_a.api}/datasets/{ident}", headers=env_a.headers)
        assert r.status_code == 404
        assert r.json() == {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}
        r = await client.patch(f"{env_a.api}/datasets/{ident}", json={"name": "x"}, headers=env_a.headers)
        assert r.status_code == 404


async def test_json_values_round_trip_exactly(client, env_a):
    metadata = {"big": 10**30, "neg": -(2**70), "float": 0.1, "unicode": "żółw 🐢", "nested": [{"a": None}], "1": True}
    body = await create(client, env_a, name="json", metadata=metadata)
    got = (await client.get(f"{env_a.api}/datasets/{body['id']}", headers=env_a.headers)).json()
    assert got["metadata"] == metadata
