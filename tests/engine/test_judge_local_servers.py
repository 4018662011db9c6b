"""A /v1 run whose recipe judge talks to a local llama.cpp-style server through a provider key without auth."""

from __future__ import annotations

import uuid

import pytest

from tests.engine.conftest import create_instance, create_suite, wait_for_task

LOCAL_JUDGE = "local-judge"


def rules(model: str) -> list[dict]:
    return [
        {"model": model, "target": "any", "contains": "[bad]", "json": {"verdict": False, "reasoning": "It is bad."}},
        {"model": model, "target": "any", "contains": "[good]", "json": {"verdict": True, "reasoning": "It is good."}},
    ]


@pytest.mark.parametrize("flavor", ["llama_cpp", "ollama", "vllm"])
async def test_recipe_judge_on_a_local_server_with_a_keyless_provider_key(engine_client, tenant, fake, flavor):
    model = f"{LOCAL_JUDGE}-{uuid.uuid4().hex[:6]}"
    fake.set_scenario({"flavor": flavor, "rules": rules(model)})
    r = await engine_client.post(
        f"{tenant.api}/llm_provider_keys",
        json={"provider": "openai", "name": "llama", "base_url": fake.base_url},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    key_id = r.json()["id"]
    judge = {
        "type": "llm_judge",
        "prompt": "Is {{output}} fine?",
        "max_tokens": 300,
        "model": {"provider": "openai", "model": model, "provider_key_id": key_id},
    }
    r = await engine_client.post(
        "/v1/recipes", json={"name": "local", "items": [{"evaluator": judge, "weight": 1}]}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    instance_id = await create_instance(engine_client, tenant, fake)
    cases = [
        {"input_message": "say [good] things"},
        {"input_message": "say [bad] things"},
        {"input_message": "more [good] things"},
    ]
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id, recipe_id=r.json()["id"], cases=cases)
    task_id = (await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)).json()["task_id"]
    task = await wait_for_task(engine_client, tenant, task_id)
    assert task["status"] == "completed", task
    results = (await engine_client.get(f"/v1/evaluations/{suite_id}/results", headers=tenant.headers)).json()
    assert {r["agent_response"]: (r["status"], r["score"]) for r in results} == {
        "say [good] things": ("passed", 100),
        "say [bad] things": ("failed", 0),
        "more [good] things": ("passed", 100),
    }
    judged = [e for e in fake.requests() if e["model"] == model]
    assert all(e["max_tokens"] == 300 for e in judged)
    assert all(e["api_key"] == "not-needed" for e in judged)  # a placeholder, no secret
    statuses = [(e["status"], (e["response_format"] or {}).get("type")) for e in judged]
    if flavor == "vllm":
        assert statuses == [(200, "json_schema")] * 3
    else:
        # json_schema refused (llama.cpp: 500, not retried) or ignored (Ollama: prose) by the first judgements
        # in flight, then json_object for each case
        first = 500 if flavor == "llama_cpp" else 200
        assert statuses.count((200, "json_object")) == 3
        assert set(statuses) == {(first, "json_schema"), (200, "json_object")} and len(statuses) <= 6


@pytest.mark.parametrize("value", [0, -1, "many", 2_000_000])
async def test_recipe_judge_max_tokens_is_validated(engine_client, tenant, value):
    judge = {"type": "llm_judge", "prompt": "ok?", "max_tokens": value}
    r = await engine_client.post(
        "/v1/recipes", json={"name": "r", "items": [{"evaluator": judge}]}, headers=tenant.headers
    )
    assert r.status_code == 422, r.text
    assert "max_tokens" in r.text
