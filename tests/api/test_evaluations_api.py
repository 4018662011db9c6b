"""Evaluations (evaluator definitions) on the LLM-analytics surface, through HTTP."""

from __future__ import annotations

import uuid

import pytest

JUDGE = {
    "name": "helpful",
    "evaluation_type": "llm_judge",
    "evaluation_config": {"prompt": "  Is the answer helpful?  "},
    "output_type": "boolean",
    "output_config": {},
}


async def create(client, env, **overrides):
    r = await client.post(f"{env.api}/evaluations", json={**JUDGE, **overrides}, headers=env.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_create_normalises_configs(client, env_a):
    body = await create(client, env_a)
    assert list(body) == [
        "id",
        "name",
        "description",
        "enabled",
        "evaluation_type",
        "evaluation_config",
        "output_type",
        "output_config",
        "conditions",
        "model_configuration",
        "created_at",
        "updated_at",
        "created_by",
        "deleted",
    ]
    assert body["evaluation_config"] == {"prompt": "Is the answer helpful?"}
    assert body["output_config"] == {"allows_na": False}
    assert body["description"] == "" and body["enabled"] is False and body["conditions"] == []
    assert body["model_configuration"] is None and body["deleted"] is False


async def test_unknown_config_keys_are_dropped(client, env_a):
    body = await create(
        client, env_a, evaluation_config={"prompt": "p", "extra": 1}, output_config={"allows_na": True, "x": 2}
    )
    assert body["evaluation_config"] == {"prompt": "p"} and body["output_config"] == {"allows_na": True}


@pytest.mark.parametrize(
    ("missing", "attr"), [("name", "name"), ("evaluation_type", "evaluation_type"), ("output_type", "output_type")]
)
async def test_required_fields(client, env_a, missing, attr):
    payload = {k: v for k, v in JUDGE.items() if k != missing}
    r = await client.post(f"{env_a.api}/evaluations", json=payload, headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == attr and r.json()["code"] == "required"


async def test_invalid_choice(client, env_a):
    r = await client.post(f"{env_a.api}/evaluations", json={**JUDGE, "evaluation_type": "vibes"}, headers=env_a.headers)
    assert r.status_code == 400
    assert r.json() == {
        "type": "validation_error",
        "code": "invalid_choice",
        "detail": '"vibes" is not a valid choice.',
        "attr": "evaluation_type",
    }


async def test_config_errors_map_to_attr_config(client, env_a):
    r = await client.post(f"{env_a.api}/evaluations", json={**JUDGE, "evaluation_config": {}}, headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == "config"
    assert r.json()["detail"].startswith("Invalid config for llm_judge/boolean:")
    r = await client.post(
        f"{env_a.api}/evaluations", json={**JUDGE, "evaluation_config": {"prompt": "   "}}, headers=env_a.headers
    )
    assert r.status_code == 400 and "Prompt cannot be empty" in r.json()["detail"]
    r = await client.post(
        f"{env_a.api}/evaluations",
        json={**JUDGE, "evaluation_type": "hog", "evaluation_config": {"source": "  "}},
        headers=env_a.headers,
    )
    assert r.status_code == 400 and "Source code cannot be empty" in r.json()["detail"]
    assert (await client.get(f"{env_a.api}/evaluations", headers=env_a.headers)).json()["count"] == 0


async def test_create_without_configs_is_saved_empty(client, env_a):
    payload = {"name": "later", "evaluation_type": "llm_judge", "output_type": "boolean"}
    r = await client.post(f"{env_a.api}/evaluations", json=payload, headers=env_a.headers)
    assert r.status_code == 201
    assert r.json()["evaluation_config"] == {} and r.json()["output_config"] == {}


async def test_patch_config_is_validated_against_stored_types(client, env_a):
    e = await create(client, env_a)
    url = f"{env_a.api}/evaluations/{e['id']}"
    r = await client.patch(url, json={"evaluation_config": {"source": "x"}}, headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == "config"
    r = await client.patch(url, json={"evaluation_config": {"prompt": " new "}}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["evaluation_config"] == {"prompt": "new"}
    assert r.json()["name"] == "helpful"


async def test_conditions_stored_as_sent_and_shape_checked(client, env_a):
    conditions = [
        {
            "id": "c1",
            "rollout_percentage": 50,
            "properties": [{"key": "$ai_model", "value": "gpt-4", "operator": "exact", "type": "event"}],
        },
        {"id": "c2", "rollout_percentage": 0.1, "properties": []},
    ]
    body = await create(client, env_a, conditions=conditions)
    assert [{k: c[k] for k in ("id", "rollout_percentage", "properties")} for c in body["conditions"]] == conditions
    for bad in [{"a": 1}, [1], [{"rollout_percentage": 150}], [{"rollout_percentage": -1}], [{"properties": "x"}]]:
        r = await client.post(f"{env_a.api}/evaluations", json={**JUDGE, "conditions": bad}, headers=env_a.headers)
        assert r.status_code == 400 and r.json()["attr"] == "conditions", bad


async def test_model_configuration_write_read_and_patch_semantics(client, env_a):
    mc = {"provider": "openai", "model": "gpt-5-mini"}
    e = await create(client, env_a, model_configuration=mc)
    assert e["model_configuration"] == {**mc, "provider_key_id": None, "provider_key_name": None}
    url = f"{env_a.api}/evaluations/{e['id']}"
    r = await client.patch(url, json={"model_configuration": None, "name": "renamed"}, headers=env_a.headers)
    assert r.json()["model_configuration"]["model"] == "gpt-5-mini"  # null does not clear it
    r = await client.patch(
        url, json={"model_configuration": {"provider": "anthropic", "model": "claude-haiku-4-5"}}, headers=env_a.headers
    )
    assert r.json()["model_configuration"]["provider"] == "anthropic"
    r = await client.patch(
        url,
        json={"model_configuration": {"provider": "openai", "model": "m", "provider_key_id": str(uuid.uuid4())}},
        headers=env_a.headers,
    )
    assert r.status_code == 400 and r.json()["attr"] == "model_configuration__provider_key_id"
    assert r.json()["detail"] == "Provider key not found"
    r = await client.patch(url, json={"model_configuration": {"provider": "nope", "model": "m"}}, headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == "model_configuration__provider"
    assert (await client.get(url, headers=env_a.headers)).json()["model_configuration"]["provider"] == "anthropic"


async def test_filters_and_ordering(client, env_a):
    a = await create(client, env_a, name="Bravo", enabled=True)
    b = await create(client, env_a, name="alpha", description="checks tone")
    c = await create(client, env_a, name="charlie")
    r = await client.get(f"{env_a.api}/evaluations?enabled=true", headers=env_a.headers)
    assert [e["id"] for e in r.json()["results"]] == [a["id"]]
    r = await client.get(f"{env_a.api}/evaluations?enabled=false", headers=env_a.headers)
    assert [e["id"] for e in r.json()["results"]] == [c["id"], b["id"]]
    r = await client.get(f"{env_a.api}/evaluations?enabled=perhaps", headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == "enabled"
    r = await client.get(f"{env_a.api}/evaluations?search=TONE", headers=env_a.headers)
    assert [e["id"] for e in r.json()["results"]] == [b["id"]]
    r = await client.get(f"{env_a.api}/evaluations?order_by=-name", headers=env_a.headers)
    names = [e["name"] for e in r.json()["results"]]
    assert names == sorted(names, reverse=True) or names == ["charlie", "alpha", "Bravo"]
    r = await client.get(f"{env_a.api}/evaluations?order_by=enabled", headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == "order_by"
    r = await client.get(f"{env_a.api}/evaluations", params={"id__in": f"{a['id']},{c['id']}"}, headers=env_a.headers)
    assert {e["id"] for e in r.json()["results"]} == {a["id"], c["id"]}


async def test_soft_delete_put_and_405(client, env_a):
    e = await create(client, env_a)
    url = f"{env_a.api}/evaluations/{e['id']}"
    r = await client.delete(url, headers=env_a.headers)
    assert r.status_code == 405 and r.content == b""
    assert (await client.patch(url, json={"deleted": True}, headers=env_a.headers)).json()["deleted"] is True
    assert (await client.get(url, headers=env_a.headers)).status_code == 404
    assert (await client.get(f"{env_a.api}/evaluations", headers=env_a.headers)).json()["count"] == 0
    r = await client.put(url, json={**JUDGE, "name": "restored", "deleted": False}, headers=env_a.headers)
    assert r.status_code == 200 and r.json()["name"] == "restored"
    assert (await client.get(url, headers=env_a.headers)).status_code == 200


HOG = {"name": "non-empty", "evaluation_type": "hog", "output_type": "boolean", "output_config": {"allows_na": True}}


async def test_hog_source_is_compiled_on_save(client, env_a):
    body = await create(client, env_a, **HOG, evaluation_config={"source": "return length(output) > 0"})
    bytecode = body["evaluation_config"]["bytecode"]
    assert bytecode[:2] == ["_H", 1] and "length" in bytecode
    assert body["evaluation_config"]["source"] == "return length(output) > 0"
    r = await client.patch(
        f"{env_a.api}/evaluations/{body['id']}",
        json={"evaluation_config": {"source": "return true"}},
        headers=env_a.headers,
    )
    assert r.json()["evaluation_config"]["bytecode"] != bytecode


async def test_bad_hog_source_is_400_and_nothing_saved(client, env_a):
    for source in ["return (", "let x := ", "return 'unterminated"]:
        r = await client.post(
            f"{env_a.api}/evaluations", json={**HOG, "evaluation_config": {"source": source}}, headers=env_a.headers
        )
        assert r.status_code == 400, source
        assert r.json()["attr"] == "evaluation_config"
        assert r.json()["detail"].startswith("Failed to compile Hog code:") and "line 1" in r.json()["detail"]
    deep = "return " + "(" * 5000 + "1" + ")" * 5000
    r = await client.post(
        f"{env_a.api}/evaluations", json={**HOG, "evaluation_config": {"source": deep}}, headers=env_a.headers
    )
    assert r.status_code == 400 and r.json()["attr"] == "evaluation_config"
    assert (await client.get(f"{env_a.api}/evaluations", headers=env_a.headers)).json()["count"] == 0


async def test_hog_source_longer_than_the_cap_is_400_before_compiling(client, env_a):
    import time

    big = "return true\n" + "// padding\n" * 30_000  # 330 KB, under the body limit, over the source cap
    base = f"{env_a.api}/evaluations"
    start = time.monotonic()
    r = await client.post(base, json={**HOG, "evaluation_config": {"source": big}}, headers=env_a.headers)
    assert r.status_code == 400, r.text
    assert r.json()["attr"] == "config" and "100000 characters" in r.json()["detail"]
    ok = await create(client, env_a, **HOG, evaluation_config={"source": "return true"})
    r = await client.patch(f"{base}/{ok['id']}", json={"evaluation_config": {"source": big}}, headers=env_a.headers)
    assert r.status_code == 400 and "100000 characters" in r.json()["detail"], r.text
    assert time.monotonic() - start < 10
    edge = "return true" + " " * (100_000 - len("return true"))
    r = await client.post(base, json={**HOG, "evaluation_config": {"source": edge}}, headers=env_a.headers)
    assert r.status_code == 201, r.text


async def test_conditions_get_bytecode_and_errors(client, env_a):
    conditions = [
        {
            "id": "ok",
            "rollout_percentage": 100,
            "properties": [{"key": "$ai_model", "value": "gpt-4", "operator": "exact", "type": "event"}],
        },
        {"id": "bad", "rollout_percentage": 100, "properties": [{"key": "x", "value": 1, "operator": "sounds_like"}]},
        {"id": "empty", "rollout_percentage": 10, "properties": []},
    ]
    body = await create(client, env_a, conditions=conditions)
    ok, bad, empty = body["conditions"]
    assert ok["bytecode"][:2] == ["_H", 1] and ok["bytecode_error"] is None
    assert bad["bytecode"] is None and "sounds_like" in bad["bytecode_error"]
    assert empty["bytecode"][:2] == ["_H", 1] and empty["bytecode_error"] is None
    got = (await client.get(f"{env_a.api}/evaluations/{body['id']}", headers=env_a.headers)).json()
    assert got["conditions"] == body["conditions"]


async def test_saved_hog_evaluation_runs_on_an_event(client, env_a):
    from assay.evaluators.hog_eval import run_hog_evaluation

    source = "let answer := jsonParse(output)[1]['content']\nprint(f'answer: {answer}')\nreturn answer like '%Paris%'"
    body = await create(client, env_a, **HOG, evaluation_config={"source": source})
    event = {
        "uuid": str(uuid.uuid4()),
        "event": "$ai_generation",
        "distinct_id": "u1",
        "properties": {
            "$ai_input": [{"role": "user", "content": "Capital of France?"}],
            "$ai_output_choices": [{"role": "assistant", "content": "It is Paris."}],
        },
    }
    assert run_hog_evaluation(body, event) == {
        "verdict": True,
        "applicable": True,
        "reasoning": "answer: It is Paris.",
        "error": None,
    }
    event["properties"]["$ai_output_choices"][0]["content"] = "Lyon"
    assert run_hog_evaluation(body, event)["verdict"] is False
    blank = await create(client, env_a, **{**HOG, "name": "na"}, evaluation_config={"source": "return null"})
    assert run_hog_evaluation(blank, event) == {"verdict": None, "applicable": False, "reasoning": "", "error": None}
    assert run_hog_evaluation({"evaluation_config": {}}, event)["error"] == "Missing bytecode in evaluation_config"


NEVER_RUNS = "This evaluation is enabled but has no conditions, so it never runs on new events."


async def test_enabled_without_conditions_is_accepted_with_a_warning(client, env_a):
    body = await create(client, env_a, enabled=True)
    assert body["conditions"] == [] and body["enabled"] is True
    [warning] = body["warnings"]
    assert warning.startswith(NEVER_RUNS) and '{"properties": [], "rollout_percentage": 100}' in warning
    url = f"{env_a.api}/evaluations/{body['id']}"
    assert (await client.get(url, headers=env_a.headers)).json()["warnings"] == [warning]
    listed = (await client.get(f"{env_a.api}/evaluations", headers=env_a.headers)).json()["results"]
    assert listed[0]["warnings"] == [warning]
    # a match-all condition (what PostHog's UI creates) makes it run, and the warning goes away
    match_all = [{"properties": [], "rollout_percentage": 100}]
    r = await client.patch(url, json={"conditions": match_all}, headers=env_a.headers)
    assert r.status_code == 200 and "warnings" not in r.json()
    # disabled evaluations are not expected to run: no warning, and the response keeps the original shape
    r = await client.patch(url, json={"conditions": [], "enabled": False}, headers=env_a.headers)
    assert r.status_code == 200 and "warnings" not in r.json()
    assert "warnings" not in await create(client, env_a)


async def test_conditions_that_cannot_match_are_warned_about(client, env_a):
    bad = {"id": "bad", "properties": [{"key": "x", "value": 1, "operator": "sounds_like"}]}
    body = await create(client, env_a, enabled=True, conditions=[bad])
    assert [w.split(":")[0] for w in body["warnings"]] == [
        "Condition 0 never matches",
        "No condition can match, so the evaluation never runs on new events.",
    ]
    body = await create(client, env_a, enabled=True, conditions=[bad, {"properties": [], "rollout_percentage": 5}])
    assert len(body["warnings"]) == 1 and body["warnings"][0].startswith("Condition 0 never matches")
    body = await create(client, env_a, enabled=True, conditions=[{"properties": [], "rollout_percentage": 0}])
    assert body["warnings"] == ["Every condition has rollout_percentage 0, so the evaluation never runs on new events."]


async def test_openapi_documents_the_warnings_and_stats(client):
    schema = (await client.get("/openapi.json")).json()
    public = schema["components"]["schemas"]["EvaluationPublic"]
    assert "warnings" in public["properties"] and "warnings" not in public.get("required", [])
    assert any(path.endswith("/evaluations/{id}/stats") for path in schema["paths"])
    assert any(path.endswith("/evaluation_runs") and "get" in ops for path, ops in schema["paths"].items())
