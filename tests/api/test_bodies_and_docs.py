"""Malformed and oversize bodies, OpenAPI, docs and health."""

from __future__ import annotations


async def test_malformed_json(client, env_a):
    headers = {**env_a.headers, "Content-Type": "application/json"}
    r = await client.post(f"{env_a.api}/datasets", content=b'{"name": ', headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "parse_error" and r.json()["type"] == "validation_error"
    r = await client.post("/v1/evaluations", content=b"{nope", headers=headers)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"


async def test_body_of_wrong_type(client, env_a):
    r = await client.post(f"{env_a.api}/datasets", json=["name"], headers=env_a.headers)
    assert r.status_code == 400 and r.json()["detail"] == "Invalid data. Expected a dictionary, but got list."
    r = await client.post("/v1/evaluations", json=[1], headers=env_a.headers)
    assert r.status_code == 422


async def test_oversize_body_is_413_and_nothing_is_stored(client, env_a):
    big = {"name": "big", "metadata": {"blob": "x" * (2 * 1024 * 1024)}}
    r = await client.post(f"{env_a.api}/datasets", json=big, headers=env_a.headers)
    assert r.status_code == 413 and "larger than the limit" in r.json()["detail"]

    async def chunks():
        yield b'{"name": "streamed", "metadata": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    r = await client.post(
        f"{env_a.api}/datasets", content=chunks(), headers={**env_a.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert (await client.get(f"{env_a.api}/datasets", headers=env_a.headers)).json()["count"] == 0


async def test_unknown_route_and_method(client, env_a):
    r = await client.get(f"{env_a.api}/nothing-here", headers=env_a.headers)
    assert r.status_code == 404
    r = await client.put("/v1/evaluations", json={}, headers=env_a.headers)
    assert r.status_code == 405


async def test_openapi_describes_both_surfaces(client):
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in [
        "/api/environments/{environment_id}/datasets",
        "/api/environments/{environment_id}/datasets/{id}",
        "/api/environments/{environment_id}/dataset_items/{id}",
        "/api/environments/{environment_id}/evaluations/{id}",
        "/v1/evaluations/{evaluation_id}/test-cases/{case_id}",
    ]:
        assert path in paths
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer" and schemes["APIKeyHeader"]["name"] == "X-Api-Key"
    create = paths["/api/environments/{environment_id}/datasets"]["post"]
    assert create["x-required-scopes"] == ["dataset:write"] and "201" in create["responses"]
    assert "DrfError" in create["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    delete = paths["/api/environments/{environment_id}/evaluations/{id}"]["delete"]
    assert "405" in delete["responses"] and "Hard delete" in delete["description"]
    assert "422" in paths["/v1/evaluations"]["post"]["responses"]


async def test_docs_and_health(client):
    assert "swagger" in (await client.get("/docs")).text.lower()
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


async def test_non_json_numbers_and_lone_surrogates_are_parse_errors(client, env_a):
    headers = {**env_a.headers, "Content-Type": "application/json"}
    r = await client.post(f"{env_a.api}/datasets/", content=b'{"name": "n", "metadata": {"x": NaN}}', headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "parse_error"
    assert r.json()["detail"] == "JSON parse error - Out of range float values are not JSON compliant: 'NaN'"
    r = await client.post("/v1/recipes", content=b'{"name": "r", "pass_threshold": 1e400}', headers=headers)
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"
    assert "'1e400'" in r.json()["detail"][0]["ctx"]["error"]
    r = await client.post("/v1/evaluations", content=b'{"name": "\\ud800"}', headers=headers)
    assert r.status_code == 422 and "Lone surrogate" in r.json()["detail"][0]["ctx"]["error"]
    # a valid pair is one character, stored as sent
    r = await client.post("/v1/evaluations", content=b'{"name": "\\ud83d\\ude00"}', headers=headers)
    assert r.status_code == 201 and r.json()["name"] == "\U0001f600"
    assert (await client.get("/v1/evaluations", headers=env_a.headers)).json()[0]["name"] == "\U0001f600"


async def test_validation_echo_of_undecodable_bytes_is_a_422(client, env_a):
    headers = {**env_a.headers, "Content-Type": "text/plain"}
    r = await client.post("/v1/evaluations", content=b"\xff\xfe", headers=headers)
    assert r.status_code == 422 and r.json()["detail"][0]["input"] == "\\xff\\xfe"


async def test_openapi_documents_the_shared_answers(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    get_suite = paths["/v1/evaluations/{evaluation_id}"]["get"]["responses"]
    assert {"400", "401", "403", "404", "422"} <= set(get_suite)
    assert "HttpError" in get_suite["404"]["content"]["application/json"]["schema"]["$ref"]
    assert "404" not in paths["/v1/evaluations"]["post"]["responses"]
    assert "413" in paths["/v1/evaluations"]["post"]["responses"]
    hard_delete = paths["/api/environments/{environment_id}/datasets/{id}"]["delete"]["responses"]["405"]
    assert "content" not in hard_delete
    assert "422" not in paths["/api/environments/{environment_id}/datasets"]["post"]["responses"]
    options = paths["/api/environments/{environment_id}/datasets/{id}"]["options"]
    assert options["security"] == [] and "Allow" in options["responses"]["204"]["headers"]
    assert "options" not in paths["/batch/"]  # the capture paths answer CORS preflights themselves


async def test_booleans_are_json_booleans(client, env_a):
    dataset = (await client.post(f"{env_a.api}/datasets", json={"name": "kept"}, headers=env_a.headers)).json()
    for value in (0.0, 0, 1, "false", "yes"):
        r = await client.patch(f"{env_a.api}/datasets/{dataset['id']}", json={"deleted": value}, headers=env_a.headers)
        assert r.status_code == 400 and r.json()["attr"] == "deleted", value
        assert r.json()["detail"] == "Must be a valid boolean."
    r = await client.post(
        f"{env_a.api}/evaluations/test_hog", json={"source": "true", "allows_na": 0}, headers=env_a.headers
    )
    assert r.status_code == 400 and r.json() == {"error": {"allows_na": ["Must be a valid boolean."]}}
    assert (await client.get(f"{env_a.api}/datasets/{dataset['id']}", headers=env_a.headers)).status_code == 200
    r = await client.patch(f"{env_a.api}/datasets/{dataset['id']}", json={"deleted": False}, headers=env_a.headers)
    assert r.status_code == 200
