"""The datasets pages through HTTP: list (search, sort), create, edit, soft-delete and restore, the items browser
(add, edit, JSON validation), "evaluate against this dataset", with CSRF, scopes and environments enforced."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import Env, add_key
from tests.web.conftest import sign_in


async def api_dataset(client: httpx.AsyncClient, env: Env, name: str, **fields: Any) -> str:
    r = await client.post("/api/environments/@current/datasets", json={"name": name, **fields}, headers=env.headers)
    assert r.status_code == 201, r.text
    dataset_id: str = r.json()["id"]
    return dataset_id


async def api_item(client: httpx.AsyncClient, env: Env, dataset_id: str, **fields: Any) -> str:
    r = await client.post(
        "/api/environments/@current/dataset_items", json={"dataset": dataset_id, **fields}, headers=env.headers
    )
    assert r.status_code == 201, r.text
    item_id: str = r.json()["id"]
    return item_id


def listed_names(html: str) -> list[str]:
    table = html.split('<table class="data datasets">', 1)
    if len(table) == 1:
        return []
    body = table[1].split("</table>", 1)[0]
    return re.findall(r"<tr>\s*<td>(?:<a href=\"/datasets/[^\"]+\">)?([^<]*)", body)


async def test_list_search_and_sort(client: httpx.AsyncClient, env_a: Env) -> None:
    for name in ("beta refunds", "alpha billing", "gamma refunds"):
        await api_dataset(client, env_a, name)
    await sign_in(client, env_a.key)
    page = await client.get("/datasets")
    assert page.status_code == 200
    assert listed_names(page.text) == ["gamma refunds", "alpha billing", "beta refunds"]  # newest first
    by_name = await client.get("/datasets", params={"sort": "name"})
    assert listed_names(by_name.text) == ["alpha billing", "beta refunds", "gamma refunds"]
    by_name_desc = await client.get("/datasets", params={"sort": "-name"})
    assert listed_names(by_name_desc.text) == ["gamma refunds", "beta refunds", "alpha billing"]
    oldest = await client.get("/datasets", params={"sort": "created"})
    assert listed_names(oldest.text) == ["beta refunds", "alpha billing", "gamma refunds"]
    found = await client.get("/datasets", params={"q": "REFUND", "sort": "name"})
    assert listed_names(found.text) == ["beta refunds", "gamma refunds"]
    bad = await client.get("/datasets", params={"sort": "size"})
    assert bad.status_code == 400 or bad.status_code == 422


async def test_create_edit_delete_and_restore(client: httpx.AsyncClient, env_a: Env) -> None:
    token = await sign_in(client, env_a.key)
    created = await client.post(
        "/datasets",
        data={"csrf_token": token, "name": "support", "description": "tickets", "metadata": '{"owner": "ops"}'},
    )
    assert created.status_code == 303
    dataset_id = created.headers["location"].split("/")[2].split("?")[0]
    api = await client.get(f"/api/environments/@current/datasets/{dataset_id}", headers=env_a.headers)
    assert api.json()["name"] == "support" and api.json()["metadata"] == {"owner": "ops"}

    bad = await client.post("/datasets", data={"csrf_token": token, "name": "x", "metadata": "{owner: 1}"})
    assert bad.status_code == 422 and "metadata: not valid JSON" in bad.text
    blank = await client.post("/datasets", data={"csrf_token": token, "name": "   "})
    assert blank.status_code == 422 and "may not be blank" in blank.text

    edited = await client.post(
        f"/datasets/{dataset_id}", data={"csrf_token": token, "name": "support v2", "description": "", "metadata": ""}
    )
    assert edited.status_code == 303
    api = await client.get(f"/api/environments/@current/datasets/{dataset_id}", headers=env_a.headers)
    assert api.json()["name"] == "support v2" and api.json()["metadata"] is None

    deleted = await client.post(f"/datasets/{dataset_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    api = await client.get(f"/api/environments/@current/datasets/{dataset_id}", headers=env_a.headers)
    assert api.status_code == 404
    assert "support v2" not in listed_names((await client.get("/datasets")).text)
    assert listed_names((await client.get("/datasets", params={"deleted": "1"})).text) == ["support v2"]
    assert (await client.get(f"/datasets/{dataset_id}")).status_code == 404

    restored = await client.post(f"/datasets/{dataset_id}/undelete", data={"csrf_token": token})
    assert restored.status_code == 303
    api = await client.get(f"/api/environments/@current/datasets/{dataset_id}", headers=env_a.headers)
    assert api.status_code == 200 and api.json()["deleted"] is False


async def test_hard_delete_is_impossible(client: httpx.AsyncClient, env_a: Env) -> None:
    dataset_id = await api_dataset(client, env_a, "kept")
    token = await sign_in(client, env_a.key)
    for method in ("DELETE",):
        answer = await client.request(method, f"/datasets/{dataset_id}", headers={"X-CSRF-Token": token})
        assert answer.status_code == 405
    api = await client.delete(f"/api/environments/@current/datasets/{dataset_id}", headers=env_a.headers)
    assert api.status_code == 405
    await client.post(f"/datasets/{dataset_id}/delete", data={"csrf_token": token})
    still = await client.get(
        f"/api/environments/@current/datasets/{dataset_id}", headers=env_a.headers
    )  # soft-deleted: hidden, restorable
    assert still.status_code == 404
    assert (await client.post(f"/datasets/{dataset_id}/undelete", data={"csrf_token": token})).status_code == 303
    assert (
        await client.get(f"/api/environments/@current/datasets/{dataset_id}", headers=env_a.headers)
    ).status_code == 200


async def test_items_add_edit_and_bad_json(client: httpx.AsyncClient, env_a: Env) -> None:
    dataset_id = await api_dataset(client, env_a, "qa")
    token = await sign_in(client, env_a.key)
    added = await client.post(
        f"/datasets/{dataset_id}/items",
        data={
            "csrf_token": token,
            "input": '[{"role": "user", "content": "Where is my order?"}]',
            "output": '"It ships tomorrow."',
            "metadata": '{"tags": ["orders"]}',
            "ref_trace_id": "trace-42",
        },
    )
    assert added.status_code == 303
    items = await client.get(
        "/api/environments/@current/dataset_items", params={"dataset": dataset_id}, headers=env_a.headers
    )
    [item] = items.json()["results"]
    assert item["input"] == [{"role": "user", "content": "Where is my order?"}]
    assert item["output"] == "It ships tomorrow." and item["ref_trace_id"] == "trace-42"

    page = await client.get(f"/datasets/{dataset_id}")
    assert page.status_code == 200
    assert 'href="/traces/trace-42"' in page.text
    assert "<details" in page.text and "Where is my order?" in page.text

    bad = await client.post(f"/datasets/{dataset_id}/items", data={"csrf_token": token, "input": '{"role": "user",'})
    assert bad.status_code == 422 and "input: not valid JSON" in bad.text
    assert 'role="alert"' in bad.text
    nan = await client.post(f"/datasets/{dataset_id}/items", data={"csrf_token": token, "input": "NaN"})
    assert nan.status_code == 422

    item_url = f"/datasets/{dataset_id}/items/{item['id']}"
    edit_page = await client.get(item_url)
    assert edit_page.status_code == 200 and "edit-item-form" in edit_page.text
    edited = await client.post(
        item_url, data={"csrf_token": token, "input": '"plain question"', "output": "", "metadata": "[1, 2]"}
    )
    assert edited.status_code == 303
    api = await client.get(f"/api/environments/@current/dataset_items/{item['id']}", headers=env_a.headers)
    assert api.json()["input"] == "plain question" and api.json()["output"] is None
    assert api.json()["metadata"] == [1, 2] and api.json()["ref_trace_id"] is None
    bad_edit = await client.post(item_url, data={"csrf_token": token, "output": "[1,"})
    assert bad_edit.status_code == 422 and "output: not valid JSON" in bad_edit.text


async def test_items_are_keyset_paginated(client: httpx.AsyncClient, env_a: Env) -> None:
    dataset_id = await api_dataset(client, env_a, "many")
    for n in range(53):
        await api_item(client, env_a, dataset_id, input=f"question-{n:03d}")
    await sign_in(client, env_a.key)
    first = await client.get(f"/datasets/{dataset_id}")
    shown = re.findall(r"question-(\d{3})", first.text)
    assert len(set(shown)) == 50
    cursor = re.search(r'href="\?cursor=([^"#&]+)', first.text)
    assert cursor
    second = await client.get(f"/datasets/{dataset_id}", params={"cursor": cursor.group(1).replace("%3D", "=")})
    rest = set(re.findall(r"question-(\d{3})", second.text))
    assert len(rest) == 3 and not rest & set(shown)
    assert (await client.get(f"/datasets/{dataset_id}", params={"cursor": "junk"})).status_code in (400, 422)


async def test_writes_without_the_csrf_token_are_refused(client: httpx.AsyncClient, env_a: Env) -> None:
    dataset_id = await api_dataset(client, env_a, "guarded")
    await sign_in(client, env_a.key)
    for url, data in (
        ("/datasets", {"name": "sneaky"}),
        (f"/datasets/{dataset_id}", {"name": "renamed"}),
        (f"/datasets/{dataset_id}/delete", {}),
        (f"/datasets/{dataset_id}/items", {"input": '"x"'}),
    ):
        answer = await client.post(url, data={**data, "csrf_token": "forged"})
        assert answer.status_code == 403 and "CSRF" in answer.text
    api = await client.get(f"/api/environments/@current/datasets/{dataset_id}", headers=env_a.headers)
    assert api.json()["name"] == "guarded"
    listing = await client.get("/api/environments/@current/datasets", headers=env_a.headers)
    assert listing.json()["count"] == 1


async def test_read_only_keys_see_no_controls_and_cannot_write(app: Any, client: httpx.AsyncClient, env_a: Env) -> None:
    dataset_id = await api_dataset(client, env_a, "readable")
    item_id = await api_item(client, env_a, dataset_id, input="hello")
    key = await add_key(app, env_a, ["dataset:read", "evaluation:read"])
    token = await sign_in(client, key)
    listing = await client.get("/datasets")
    assert listing.status_code == 200 and "readable" in listing.text
    assert "create-dataset-form" not in listing.text and "Delete" not in listing.text
    page = await client.get(f"/datasets/{dataset_id}")
    assert page.status_code == 200
    for control in ("add-item-form", "edit-dataset-form", "suite-form", "/delete"):
        assert control not in page.text
    item = await client.get(f"/datasets/{dataset_id}/items/{item_id}")
    assert item.status_code == 200 and "edit-item-form" not in item.text
    for url, data in (
        ("/datasets", {"name": "nope"}),
        (f"/datasets/{dataset_id}", {"name": "nope"}),
        (f"/datasets/{dataset_id}/delete", {}),
        (f"/datasets/{dataset_id}/items", {"input": '"x"'}),
        (f"/datasets/{dataset_id}/items/{item_id}", {"input": '"x"'}),
        (f"/datasets/{dataset_id}/suite", {"name": "s", "instance_id": "x"}),
    ):
        answer = await client.post(url, data={**data, "csrf_token": token})
        assert answer.status_code == 403, url
    api = await client.get(f"/api/environments/@current/datasets/{dataset_id}", headers=env_a.headers)
    assert api.json()["name"] == "readable"


async def test_without_dataset_read_the_pages_are_refused(app: Any, client: httpx.AsyncClient, env_a: Env) -> None:
    key = await add_key(app, env_a, ["evaluation:read"])
    await sign_in(client, key)
    assert (await client.get("/datasets")).status_code == 403


async def test_another_environments_dataset_is_not_found(client: httpx.AsyncClient, env_a: Env, env_b: Env) -> None:
    theirs = await api_dataset(client, env_b, "theirs")
    their_item = await api_item(client, env_b, theirs, input="secret")
    mine = await api_dataset(client, env_a, "mine")
    token = await sign_in(client, env_a.key)
    assert "theirs" not in (await client.get("/datasets")).text
    assert (await client.get(f"/datasets/{theirs}")).status_code == 404
    assert (await client.get(f"/datasets/{theirs}/items/{their_item}")).status_code == 404
    assert (await client.get(f"/datasets/{mine}/items/{their_item}")).status_code == 404
    for url in (f"/datasets/{theirs}", f"/datasets/{theirs}/delete", f"/datasets/{theirs}/items"):
        answer = await client.post(url, data={"csrf_token": token, "name": "taken", "input": '"x"'})
        assert answer.status_code == 404, url
    api = await client.get(f"/api/environments/@current/datasets/{theirs}", headers=env_b.headers)
    assert api.json()["name"] == "theirs"


async def test_html_in_an_item_is_shown_as_text(client: httpx.AsyncClient, env_a: Env) -> None:
    dataset_id = await api_dataset(client, env_a, "<script>alert('name')</script>")
    await api_item(
        client,
        env_a,
        dataset_id,
        input={"content": "<script>alert(1)</script>"},
        output="</pre><img src=x onerror=alert(2)>",
        ref_trace_id='"><script>alert(3)</script>',
    )
    await sign_in(client, env_a.key)
    for url in ("/datasets", f"/datasets/{dataset_id}"):
        page = await client.get(url)
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
    page = await client.get(f"/datasets/{dataset_id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&lt;/pre&gt;&lt;img src=x onerror=alert(2)&gt;" in page.text


async def test_evaluate_against_this_dataset_builds_a_suite(client: httpx.AsyncClient, env_a: Env) -> None:
    dataset_id = await api_dataset(client, env_a, "orders")
    await api_item(
        client,
        env_a,
        dataset_id,
        input=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Where is order 7?"}],
        output="It shipped.",
    )
    await api_item(
        client, env_a, dataset_id, input="Cancel order 9", metadata={"expected_behavior": "Cancels", "tags": ["x"]}
    )
    await api_item(client, env_a, dataset_id, input=None, output="no input: skipped")
    instance = await client.post(
        "/v1/instances",
        json={"name": "bot", "kind": "openai_chat", "config": {"base_url": "http://127.0.0.1:9/v1", "model": "m"}},
        headers=env_a.headers,
    )
    assert instance.status_code == 201, instance.text
    token = await sign_in(client, env_a.key)
    page = await client.get(f"/datasets/{dataset_id}")
    assert "suite-form" in page.text and instance.json()["id"] in page.text

    no_instance = await client.post(
        f"/datasets/{dataset_id}/suite", data={"csrf_token": token, "name": "s", "instance_id": "nope"}
    )
    assert no_instance.status_code == 422 and "choose an instance" in no_instance.text
    built = await client.post(
        f"/datasets/{dataset_id}/suite",
        data={"csrf_token": token, "name": "orders suite", "instance_id": instance.json()["id"]},
    )
    assert built.status_code == 303
    suite_id = built.headers["location"].removeprefix("/suites/")
    suite = await client.get(f"/v1/evaluations/{suite_id}", headers=env_a.headers)
    assert suite.json()["name"] == "orders suite" and suite.json()["instance_id"] == instance.json()["id"]
    assert suite.json()["config"]["dataset"]["revision"] == 3  # built from (and pinned to) revision 3
    cases = await client.get(f"/v1/evaluations/{suite_id}/test-cases", headers=env_a.headers)
    assert [(c["input_message"], c["expected_behavior"], c["tags"]) for c in cases.json()] == [
        ("Where is order 7?", "It shipped.", []),
        ("Cancel order 9", "Cancels", ["x"]),
    ]
    assert (await client.get(built.headers["location"])).status_code == 200


async def test_building_a_suite_needs_evaluation_write(app: Any, client: httpx.AsyncClient, env_a: Env) -> None:
    dataset_id = await api_dataset(client, env_a, "orders")
    await api_item(client, env_a, dataset_id, input="hi")
    key = await add_key(app, env_a, ["dataset:read", "dataset:write", "evaluation:read"])
    token = await sign_in(client, key)
    page = await client.get(f"/datasets/{dataset_id}")
    assert "add-item-form" in page.text and "suite-form" not in page.text
    answer = await client.post(
        f"/datasets/{dataset_id}/suite", data={"csrf_token": token, "name": "s", "instance_id": str(dataset_id)}
    )
    assert answer.status_code == 403
    assert (await client.get("/v1/evaluations", headers=env_a.headers)).json() == []
