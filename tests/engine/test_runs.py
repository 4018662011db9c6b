"""Running suites through HTTP: scores, reasons, tokens, latency, tool calls, overrides, cancel, faults."""

from __future__ import annotations

import json

from tests.engine.conftest import JUDGE_MODEL, create_instance, create_suite, wait_for_task

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def judge_rules() -> list[dict]:
    return [
        {
            "model": JUDGE_MODEL,
            "target": "any",
            "contains": "[bad]",
            "json": {"verdict": False, "reasoning": "It is bad."},
        },
        {
            "model": JUDGE_MODEL,
            "target": "any",
            "contains": "[good]",
            "json": {"verdict": True, "reasoning": "It is good."},
        },
    ]


async def test_default_recipe_scores_judge_tool_calls_and_unscored(engine_client, tenant, fake):
    fake.set_scenario(
        {
            "rules": [
                {
                    "model": "agent-model",
                    "contains": "weather",
                    "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
                    "usage": {"prompt_tokens": 30, "completion_tokens": 12},
                },
                *judge_rules(),
            ]
        }
    )
    instance_id = await create_instance(engine_client, tenant, fake, tools=[WEATHER_TOOL])
    cases = [
        {"input_message": "say [good] things", "expected_behavior": "is polite"},
        {"input_message": "say [bad] things", "expected_behavior": "is polite"},
        {
            "input_message": "what's the weather in Paris?",
            "expected_tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
        },
        {
            "input_message": "weather please",
            "expected_tool_calls": [{"name": "get_weather", "arguments": {"city": "Rome"}}],
        },
        {"input_message": "nothing to compare"},
    ]
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id, cases=cases)
    r = await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["status"] == "queued"
    task = await wait_for_task(engine_client, tenant, r.json()["task_id"])
    assert task["status"] == "completed" and task["progress"] == {"total": 5, "completed": 5, "errors": 0}

    results = (await engine_client.get(f"/v1/evaluations/{suite_id}/results", headers=tenant.headers)).json()
    cases_by_id = {
        c["id"]: c
        for c in (await engine_client.get(f"/v1/evaluations/{suite_id}/test-cases", headers=tenant.headers)).json()
    }
    by_input = {cases_by_id[r["test_case_id"]]["input_message"]: r for r in results}
    good, bad = by_input["say [good] things"], by_input["say [bad] things"]
    assert good["status"] == "passed" and good["score"] == 100 and "It is good." in good["score_reason"]
    assert good["agent_response"] == "say [good] things" and good["judge_tokens"] > 0
    assert bad["status"] == "failed" and bad["score"] == 0 and "It is bad." in bad["score_reason"]
    paris = by_input["what's the weather in Paris?"]
    assert paris["tool_calls_made"] == [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    assert paris["status"] == "passed" and paris["tokens_used"] == 42 and paris["judge_tokens"] == 0
    rome = by_input["weather please"]
    assert rome["status"] == "failed" and "city" in rome["score_reason"]
    unscored = by_input["nothing to compare"]
    assert unscored["status"] == "unscored" and unscored["score"] is None
    for result in results:
        assert isinstance(result["latency_ms"], int) and result["latency_ms"] >= 0
        assert result["task_id"] == task["task_id"] and result["evaluation_id"] == suite_id

    suite = (await engine_client.get(f"/v1/evaluations/{suite_id}", headers=tenant.headers)).json()
    summary = suite["results_summary"]
    assert suite["status"] == "completed"
    assert (summary["passed"], summary["failed"], summary["error"], summary["unscored"]) == (2, 2, 0, 1)
    assert summary["pass_rate"] == 0.5 and summary["mean_score"] == 50
    assert (
        summary["latency_p50_ms"] is not None and summary["judge_tokens"] > 0 and summary["task_id"] == task["task_id"]
    )


async def test_recipe_with_checks_weights_and_required(engine_client, tenant, fake):
    fake.set_scenario({"rules": judge_rules()})
    instance_id = await create_instance(engine_client, tenant, fake)
    recipe = {
        "name": "strict",
        "pass_threshold": 60,
        "items": [
            {"evaluator": {"type": "contains", "value": "refund"}, "weight": 2},
            {"evaluator": {"type": "llm_judge", "prompt": "Is {{output}} fine?"}, "weight": 1},
            {"evaluator": {"type": "regex", "pattern": "^[^!]*$"}, "weight": 1, "required": True},
        ],
    }
    r = await engine_client.post("/v1/recipes", json=recipe, headers=tenant.headers)
    assert r.status_code == 201, r.text
    cases = [
        {"input_message": "refund [good]"},  # 2 + 1 + 1 of 4 -> 100
        {"input_message": "refund [bad]"},  # 2 + 0 + 1 of 4 -> 75
        {"input_message": "hello [good]"},  # 0 + 1 + 1 of 4 -> 50: failed
        {"input_message": "refund [good]!"},  # required regex fails -> failed
    ]
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id, recipe_id=r.json()["id"], cases=cases)
    task_id = (await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)).json()["task_id"]
    assert (await wait_for_task(engine_client, tenant, task_id))["status"] == "completed"
    results = (await engine_client.get(f"/v1/evaluations/{suite_id}/results", headers=tenant.headers)).json()
    scores = {r["agent_response"]: (r["score"], r["status"]) for r in results}
    assert scores["refund [good]"] == (100, "passed")
    assert scores["refund [bad]"] == (75, "passed")
    assert scores["hello [good]"] == (50, "failed")
    assert scores["refund [good]!"][1] == "failed"
    detail = next(r for r in results if r["agent_response"] == "refund [bad]")["evaluator_results"]
    assert [d["status"] for d in detail] == ["passed", "failed", "passed"]


async def test_override_is_audited_and_updates_summary(engine_client, tenant, fake):
    fake.set_scenario({"rules": judge_rules()})
    instance_id = await create_instance(engine_client, tenant, fake)
    suite_id = await create_suite(
        engine_client,
        tenant,
        instance_id=instance_id,
        cases=[
            {"input_message": "[bad] one", "expected_behavior": "x"},
            {"input_message": "[good] two", "expected_behavior": "x"},
        ],
    )
    task_id = (await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)).json()["task_id"]
    await wait_for_task(engine_client, tenant, task_id)
    results = (await engine_client.get(f"/v1/evaluations/{suite_id}/results", headers=tenant.headers)).json()
    bad = next(r for r in results if r["status"] == "failed")
    url = f"/v1/evaluations/{suite_id}/results/{bad['id']}"
    r = await engine_client.patch(
        url, json={"score": 90, "score_reason": "The judge was too strict."}, headers=tenant.headers
    )
    assert r.status_code == 200
    body = r.json()
    assert body["score"] == 90 and body["status"] == "passed" and body["original_score"] == 0
    assert body["score_reason"] == "The judge was too strict."
    assert body["overrides"][0]["by"] == tenant.key_id and body["overrides"][0]["previous_score"] == 0
    r = await engine_client.patch(url, json={"score": 40}, headers=tenant.headers)
    assert r.json()["original_score"] == 0 and len(r.json()["overrides"]) == 2 and r.json()["status"] == "failed"
    for bad_body in [{"score": 101}, {"score": -1}, {}, {"score": "high"}]:
        assert (await engine_client.patch(url, json=bad_body, headers=tenant.headers)).status_code == 422
    suite = (await engine_client.get(f"/v1/evaluations/{suite_id}", headers=tenant.headers)).json()
    assert suite["results_summary"]["mean_score"] == 70  # (40 + 100) / 2
    other = f"/v1/evaluations/{suite_id}/results/{suite_id}"
    assert (await engine_client.patch(other, json={"score": 1}, headers=tenant.headers)).status_code == 404


async def test_cancel_stops_a_running_task(engine_client, tenant, fake):
    fake.set_scenario({"latency_ms": 300})
    instance_id = await create_instance(engine_client, tenant, fake, max_concurrency=2)
    cases = [{"input_message": f"case {i}", "expected_tool_calls": [{"name": "x"}]} for i in range(40)]
    suite_id = await create_suite(
        engine_client, tenant, instance_id=instance_id, cases=cases, config={"concurrency": 2}
    )
    task_id = (await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)).json()["task_id"]
    r = await engine_client.post(f"/v1/tasks/{task_id}/cancel", headers=tenant.headers)
    assert r.status_code == 200
    task = await wait_for_task(engine_client, tenant, task_id)
    assert task["status"] == "cancelled" and task["progress"]["completed"] < 40
    assert (await engine_client.get(f"/v1/evaluations/{suite_id}", headers=tenant.headers)).json()[
        "status"
    ] == "cancelled"


async def test_faults_every_case_ends_with_a_result(engine_client, tenant, fake):
    fake.set_scenario(
        {
            "seed": 7,
            "faults": {
                "rate_429": 0.2,
                "retry_after_s": 0.05,
                "rate_500": 0.05,
                "rate_timeout": 0.05,
                "timeout_s": 1.5,
            },
            "rules": [
                {
                    "model": JUDGE_MODEL,
                    "target": "any",
                    "contains": "",
                    "faults": {"rate_429": 0.2, "retry_after_s": 0.05, "rate_500": 0.05, "rate_malformed": 0.05},
                }
            ],
        }
    )
    instance_id = await create_instance(engine_client, tenant, fake, timeout_s=1.0)
    cases = [{"input_message": f"question {i}", "expected_behavior": "answers"} for i in range(60)]
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id, cases=cases)
    task_id = (await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)).json()["task_id"]
    task = await wait_for_task(engine_client, tenant, task_id, timeout=120)
    assert task["status"] == "completed" and task["progress"]["completed"] == 60
    results = (await engine_client.get(f"/v1/evaluations/{suite_id}/results", headers=tenant.headers)).json()
    assert len({r["test_case_id"] for r in results}) == 60
    for result in results:
        assert result["status"] in {"passed", "failed", "error"}
        if result["status"] == "error":
            assert result["score_reason"] or result["error"]
    stats = fake.stats()
    assert stats["by_status"].get("429", 0) > 0  # faults really happened and were retried


async def test_secrets_never_returned(engine_client, tenant, fake):
    instance_id = await create_instance(engine_client, tenant, fake)
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id, cases=[{"input_message": "hi"}])
    task_id = (await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)).json()["task_id"]
    await wait_for_task(engine_client, tenant, task_id)
    for path in [
        f"/v1/instances/{instance_id}",
        f"/v1/tasks/{task_id}",
        f"/v1/evaluations/{suite_id}/results",
        f"/v1/evaluations/{suite_id}/runs",
        f"/v1/evaluations/{suite_id}",
    ]:
        text = (await engine_client.get(path, headers=tenant.headers)).text
        assert "sk-agent-secret-0002" not in text and "sk-judge-secret-0001" not in text, path


async def test_run_validation(engine_client, tenant, fake):
    r = await engine_client.post("/v1/evaluations", json={"name": "no instance"}, headers=tenant.headers)
    suite_id = r.json()["id"]
    r = await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)
    assert r.status_code == 422 and "instance" in json.dumps(r.json())
    instance_id = await create_instance(engine_client, tenant, fake)
    empty = await create_suite(engine_client, tenant, instance_id=instance_id)
    r = await engine_client.post(f"/v1/evaluations/{empty}/run", headers=tenant.headers)
    assert r.status_code == 422 and "test cases" in json.dumps(r.json())
    assert (await engine_client.get(f"/v1/evaluations/{empty}/runs", headers=tenant.headers)).json() == []


async def test_judge_cache_on_by_default_and_off_by_config(engine_client, tenant, fake):
    fake.set_scenario({"rules": judge_rules()})
    instance_id = await create_instance(engine_client, tenant, fake)
    cases = [{"input_message": f"[good] {i}", "expected_behavior": "ok"} for i in range(3)]

    def judge_calls() -> int:
        # only this test's judgements: a slow request of an earlier test may still land in the log
        return sum(1 for e in fake.requests() if e["model"] == JUDGE_MODEL and "[good] " in (e.get("last_user") or ""))

    cached = await create_suite(engine_client, tenant, instance_id=instance_id, cases=cases)
    for expected_calls in (3, 3):  # the second run is answered from the cache
        task_id = (await engine_client.post(f"/v1/evaluations/{cached}/run", headers=tenant.headers)).json()["task_id"]
        await wait_for_task(engine_client, tenant, task_id)
        assert judge_calls() == expected_calls
    results = (await engine_client.get(f"/v1/evaluations/{cached}/results", headers=tenant.headers)).json()
    assert all(r["status"] == "passed" and r["judge_tokens"] == 0 for r in results)

    fake.reset()
    uncached = await create_suite(
        engine_client, tenant, instance_id=instance_id, cases=cases, config={"judge_cache": False}
    )
    for expected_calls in (3, 6):
        task_id = (await engine_client.post(f"/v1/evaluations/{uncached}/run", headers=tenant.headers)).json()[
            "task_id"
        ]
        await wait_for_task(engine_client, tenant, task_id)
        assert judge_calls() == expected_calls


async def test_every_builtin_check_and_hog_in_one_recipe(engine_client, tenant, fake):
    fake.set_scenario(
        {
            "rules": [
                {
                    "model": "agent-model",
                    "contains": "json please",
                    "reply": '```json\n{"city": "Paris", "temp": 21}\n```',
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5},
                },
                {
                    "model": "agent-model",
                    "contains": "wordy",
                    "reply": "x " * 50,
                    "usage": {"prompt_tokens": 900, "completion_tokens": 900},
                },
            ]
        }
    )
    instance_id = await create_instance(engine_client, tenant, fake)
    schema = {"type": "object", "required": ["city", "temp"], "properties": {"temp": {"type": "number"}}}
    hog = "let data := jsonParse(replaceAll(replaceAll(output, '```json', ''), '```', ''))\nprint(f'city is {data.city}')\nreturn data.city = 'Paris'"
    recipe = {
        "name": "all kinds",
        "items": [
            {"evaluator": {"type": "json_schema", "schema": schema}},
            {"evaluator": {"type": "hog", "source": hog}},
            {"evaluator": {"type": "not_contains", "value": "error"}},
            {"evaluator": {"type": "latency_budget", "max_ms": 60000}},
            {"evaluator": {"type": "token_budget", "max_tokens": 100}},
        ],
    }
    r = await engine_client.post("/v1/recipes", json=recipe, headers=tenant.headers)
    assert r.status_code == 201, r.text
    suite_id = await create_suite(
        engine_client,
        tenant,
        instance_id=instance_id,
        recipe_id=r.json()["id"],
        cases=[{"input_message": "json please"}, {"input_message": "wordy"}],
    )
    task_id = (await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)).json()["task_id"]
    await wait_for_task(engine_client, tenant, task_id)
    results = {
        r["agent_response"][:6]: r
        for r in (await engine_client.get(f"/v1/evaluations/{suite_id}/results", headers=tenant.headers)).json()
    }
    good = results["```jso"]
    assert good["status"] == "passed" and good["score"] == 100 and good["tokens_used"] == 15
    assert [d["status"] for d in good["evaluator_results"]] == ["passed"] * 5
    assert good["evaluator_results"][1]["reason"] == "city is Paris"
    wordy = results["x x x "]
    statuses = [d["status"] for d in wordy["evaluator_results"]]
    assert statuses[0] == "failed" and statuses[4] == "failed"
    assert wordy["status"] == "error"  # an evaluator that could not run makes the case an error, not a fail
    assert wordy["evaluator_results"][1]["status"] == "error"  # the Hog code cannot parse prose
    assert wordy["tokens_used"] == 1800


async def test_agent_failures_become_error_results_without_secrets(engine_client, tenant, fake, caplog):
    fake.set_scenario({"api_key": "the-right-key"})
    instance_id = await create_instance(engine_client, tenant, fake)  # sends sk-agent-secret-0002: 401
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id, cases=[{"input_message": "hi"}])
    task_id = (await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)).json()["task_id"]
    task = await wait_for_task(engine_client, tenant, task_id)
    assert task["status"] == "completed" and task["progress"]["errors"] == 1
    result = (await engine_client.get(f"/v1/evaluations/{suite_id}/results", headers=tenant.headers)).json()[0]
    assert result["status"] == "error" and result["score"] is None and "agent call failed" in result["score_reason"]
    assert "sk-agent-secret-0002" not in json.dumps(result)
    assert "sk-agent-secret-0002" not in caplog.text
