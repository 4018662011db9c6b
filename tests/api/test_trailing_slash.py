"""Every route answers the same with and without a trailing slash, never with a redirect; OPTIONS and `Allow`."""

from __future__ import annotations

import json
import urllib.request
import uuid

import httpx

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _other_form(path: str) -> str:
    return path[:-1] if path.endswith("/") else path + "/"


async def _known_ids(client: httpx.AsyncClient, env) -> dict[str, str]:  # noqa: ANN001
    """Ids of real objects for the GET operations, so both forms reach a handler that finds something."""
    headers = env.headers
    dataset = (await client.post(f"{env.api}/datasets", json={"name": "d"}, headers=headers)).json()
    item = (
        await client.post(f"{env.api}/dataset_items", json={"dataset": dataset["id"], "input": {}}, headers=headers)
    ).json()
    suite = (await client.post("/v1/evaluations", json={"name": "s"}, headers=headers)).json()
    return {"environment_id": env.id, "id": dataset["id"], "item": item["id"], "evaluation_id": suite["id"]}


def _fill(path: str, method: str, ids: dict[str, str]) -> str:
    """Path parameters: the environment always; real ids for GET; fresh ids for anything that changes state."""
    filled = path.replace("{environment_id}", ids["environment_id"])
    if method == "get":
        if "/dataset_items/{id}" in filled:
            filled = filled.replace("{id}", ids["item"])
        if "/datasets/{id}" in filled:
            filled = filled.replace("{id}", ids["id"])
        filled = filled.replace("{evaluation_id}", ids["evaluation_id"])
    while "{" in filled:
        start = filled.index("{")
        filled = filled[:start] + str(uuid.uuid4()) + filled[filled.index("}") + 1 :]
    return filled


async def test_every_operation_answers_the_same_in_both_forms(client, env_a):
    spec = (await client.get("/openapi.json")).json()
    ids = await _known_ids(client, env_a)
    checked = 0
    for path, item in spec["paths"].items():
        for method in (*HTTP_METHODS, "options"):
            operation = item.get(method)
            if operation is None:
                continue
            url = _fill(path, method, ids)
            kwargs: dict = {"headers": env_a.headers}
            if "requestBody" in operation:
                kwargs["json"] = {}
            answers = []
            for form in (url, _other_form(url)):
                r = await client.request(method.upper(), form, **kwargs)
                assert not 300 <= r.status_code < 400, f"{method.upper()} {form} -> {r.status_code}"
                answers.append(r)
            canonical, other = answers
            label = f"{method.upper()} {path}"
            assert canonical.status_code == other.status_code, (
                f"{label}: {canonical.status_code} vs {other.status_code}"
            )
            if canonical.status_code >= 400 and canonical.content:
                assert canonical.json() == other.json(), label
            assert canonical.headers.get("allow") == other.headers.get("allow"), label
            checked += 1
    assert checked >= 60


async def test_trailing_slash_reaches_the_handler(client, env_a):
    # GET of a real object in PostHog's form: 200, not a 404 from a mismatched route
    dataset = (await client.post(f"{env_a.api}/datasets/", json={"name": "slashed"}, headers=env_a.headers)).json()
    r = await client.get(f"{env_a.api}/datasets/{dataset['id']}/", headers=env_a.headers)
    assert r.status_code == 200 and r.json()["name"] == "slashed"
    r = await client.patch(f"{env_a.api}/datasets/{dataset['id']}/", json={"name": "renamed"}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["name"] == "renamed"
    # the capture paths are documented with the slash and work without it
    r = await client.post("/batch", json={"api_key": env_a.project_token, "batch": []})
    assert r.status_code == 200
    # two slashes are not a form of any path
    assert (await client.get(f"{env_a.api}/datasets//", headers=env_a.headers)).status_code == 404


async def test_post_with_a_body_through_a_client_that_does_not_follow_redirects(app, env_a):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False) as http:
        r = await http.post(f"{env_a.api}/datasets/", json={"name": "posted"}, headers=env_a.headers)
        assert r.status_code == 201 and r.json()["name"] == "posted"
        r = await http.post("/v1/evaluations/", json={"name": "suite"}, headers=env_a.headers)
        assert r.status_code == 201 and r.json()["name"] == "suite"
        listed = (await http.get(f"{env_a.api}/datasets/", headers=env_a.headers)).json()
        assert [d["name"] for d in listed["results"]] == ["posted"]


async def test_pagination_links_keep_the_form_the_client_used(client, env_a):
    for name in ("a", "b", "c"):
        await client.post(f"{env_a.api}/datasets", json={"name": name}, headers=env_a.headers)
    slashed = (await client.get(f"{env_a.api}/datasets/?limit=1&offset=1", headers=env_a.headers)).json()
    assert httpx.URL(slashed["next"]).path == f"{env_a.api}/datasets/"
    assert httpx.URL(slashed["previous"]).path == f"{env_a.api}/datasets/"
    plain = (await client.get(f"{env_a.api}/datasets?limit=1&offset=1", headers=env_a.headers)).json()
    assert httpx.URL(plain["next"]).path == f"{env_a.api}/datasets"
    following = (await client.get(slashed["next"], headers=env_a.headers)).json()
    assert len(following["results"]) == 1 and httpx.URL(following["previous"]).path == f"{env_a.api}/datasets/"


async def test_options_and_405_list_every_method_of_the_path(client, env_a):
    r = await client.options(f"{env_a.api}/datasets/{uuid.uuid4()}/")
    assert r.status_code == 204 and r.content == b""
    assert r.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"
    # evaluations/{id} also matches test_hog, yet test_hog's own methods are its Allow
    r = await client.options(f"{env_a.api}/evaluations/test_hog")
    assert r.headers["allow"] == "OPTIONS, POST"
    r = await client.put("/v1/evaluations", json={}, headers=env_a.headers)
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    r = await client.post(f"{env_a.api}/llm_provider_keys/{uuid.uuid4()}", json={}, headers=env_a.headers)
    assert r.status_code == 405 and r.content == b"" and r.headers["allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"
    assert (await client.options("/v1/nothing-here")).status_code == 404


async def test_urllib_posts_through_a_trailing_slash_on_a_real_server(app, env_a, live_url):
    request = urllib.request.Request(
        f"{live_url}{env_a.api}/datasets/",
        data=json.dumps({"name": "from urllib"}).encode(),
        headers={**env_a.headers, "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (a local test server)
        assert answer.status == 201
        assert json.loads(answer.read())["name"] == "from urllib"
