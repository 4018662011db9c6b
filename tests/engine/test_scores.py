"""Scores that mean what they say, through HTTP: errored cases have no score and stay out of the means,
a case's expected tool calls are checked under any recipe, and a run shows the concurrency it really has."""

from __future__ import annotations

from typing import Any

from tests.engine.conftest import AGENT_MODEL, JUDGE_MODEL, create_instance, create_suite, wait_for_task

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


async def _recipe(client, env, items: list[dict[str, Any]], threshold: float = 70) -> str:  # noqa: ANN001
    r = await client.post(
        "/v1/recipes", json={"name": "r", "items": items, "pass_threshold": threshold}, headers=env.headers
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _run(client, env, suite_id: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:  # noqa: ANN001
    r = await client.post(f"/v1/evaluations/{suite_id}/run", headers=env.headers)
    assert r.status_code == 200, r.text
    task = await wait_for_task(client, env, r.json()["task_id"])
    assert task["status"] == "completed", task
    results = (await client.get(f"/v1/evaluations/{suite_id}/results", headers=env.headers)).json()
    cases = (await client.get(f"/v1/evaluations/{suite_id}/test-cases", headers=env.headers)).json()
    inputs = {c["id"]: c["input_message"] for c in cases}
    return task, {inputs[r["test_case_id"]]: r for r in results}


async def test_a_failed_judge_makes_an_error_without_score_and_out_of_the_mean(engine_client, tenant, fake):
    fake.set_scenario(
        {
            "rules": [
                {"model": JUDGE_MODEL, "target": "any", "contains": "[judgefail]", "status": 401},
                {
                    "model": JUDGE_MODEL,
                    "target": "any",
                    "contains": "[bad]",
                    "json": {"verdict": False, "reasoning": "Bad."},
                },
                {"model": JUDGE_MODEL, "target": "any", "json": {"verdict": True, "reasoning": "Good."}},
            ]
        }
    )
    instance_id = await create_instance(engine_client, tenant, fake)
    recipe_id = await _recipe(
        engine_client,
        tenant,
        [
            {"evaluator": {"type": "contains", "value": "case"}},
            {"evaluator": {"type": "llm_judge", "prompt": "Is {{output}} fine?"}},
        ],
    )
    cases = [{"input_message": m} for m in ("case [judgefail]", "case [good]", "case [bad]")]
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id, recipe_id=recipe_id, cases=cases)
    task, by_input = await _run(engine_client, tenant, suite_id)

    failed_judge = by_input["case [judgefail]"]
    assert failed_judge["status"] == "error" and failed_judge["score"] is None  # not the contains check's 100
    error = failed_judge["error"]
    assert error.startswith("llm_judge: ") and error.endswith("(auth_error)") and len(error) > 40  # a message too
    reason = failed_judge["score_reason"]
    assert reason.startswith("1 evaluator failed to run (llm_judge): the case has no score.")
    assert "The evaluators that ran scored 100." in reason and error in reason
    assert [v["status"] for v in failed_judge["evaluator_results"]] == ["passed", "error"]
    assert (by_input["case [good]"]["score"], by_input["case [bad]"]["score"]) == (100, 50)

    for summary in (
        task["summary"],
        (await engine_client.get(f"/v1/evaluations/{suite_id}", headers=tenant.headers)).json()["results_summary"],
    ):
        assert (summary["passed"], summary["failed"], summary["error"], summary["scored"]) == (1, 1, 1, 2)
        assert summary["mean_score"] == 75  # (100 + 50) / 2: the errored case is counted apart
        assert summary["pass_rate"] == 0.3333  # an error is not a pass
    assert task["progress"]["errors"] == 1


async def test_a_run_where_every_case_errored_has_no_mean(engine_client, tenant, fake):
    fake.set_scenario({"rules": [{"model": AGENT_MODEL, "status": 500, "error_message": "agent down"}]})
    instance_id = await create_instance(engine_client, tenant, fake)
    recipe_id = await _recipe(engine_client, tenant, [{"evaluator": {"type": "contains", "value": "x"}}])
    cases = [{"input_message": f"q{i}"} for i in range(3)]
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id, recipe_id=recipe_id, cases=cases)
    r = await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)
    task = await wait_for_task(engine_client, tenant, r.json()["task_id"], timeout=120)
    summary = task["summary"]
    assert (summary["error"], summary["scored"], summary["mean_score"], summary["pass_rate"]) == (3, 0, None, 0)


async def test_a_recipe_checks_the_expected_tool_calls_it_does_not_read(engine_client, tenant, fake):
    fake.set_scenario(
        {
            "rules": [
                {
                    "model": AGENT_MODEL,
                    "contains": "weather",
                    "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
                },
            ]
        }
    )
    instance_id = await create_instance(engine_client, tenant, fake, tools=[WEATHER_TOOL])
    recipe_id = await _recipe(engine_client, tenant, [{"evaluator": {"type": "not_contains", "value": "sorry"}}])
    cases = [
        {
            "input_message": "weather for Paris",
            "expected_tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
        },
        {
            "input_message": "weather for Rome",
            "expected_tool_calls": [{"name": "get_weather", "arguments": {"city": "Rome"}}],
        },
        {"input_message": "hello there"},
    ]
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id, recipe_id=recipe_id, cases=cases)
    _, results = await _run(engine_client, tenant, suite_id)
    paris, rome, hello = results["weather for Paris"], results["weather for Rome"], results["hello there"]
    assert (
        paris["tool_calls_made"] == rome["tool_calls_made"] == [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    )
    assert [v["evaluator"] for v in paris["evaluator_results"]] == ["not_contains", "expected_tool_calls"]
    implied = paris["evaluator_results"][1]
    assert implied["status"] == "passed" and "no evaluator of the recipe reads them" in implied["details"]["implied"]
    assert paris["status"] == "passed" and paris["score"] == 100
    assert rome["status"] == "failed" and rome["score"] == 50 and "expected_tool_calls: 0/1" in rome["score_reason"]
    assert [v["evaluator"] for v in hello["evaluator_results"]] == ["not_contains"]  # nothing expected of it

    # a recipe that reads them itself gets no second check
    own = await _recipe(engine_client, tenant, [{"evaluator": {"type": "tool_call_match"}}])
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id, recipe_id=own, cases=cases[:2])
    _, results = await _run(engine_client, tenant, suite_id)
    assert all([v["evaluator"] for v in r["evaluator_results"]] == ["tool_call_match"] for r in results.values())


async def test_the_task_and_summary_show_the_effective_concurrency(engine_client, tenant, fake):
    fake.set_scenario({"latency_ms": 150})
    instance_id = await create_instance(engine_client, tenant, fake, max_concurrency=3)
    cases = [{"input_message": f"case {i}", "expected_tool_calls": [{"name": "x"}]} for i in range(12)]
    suite_id = await create_suite(
        engine_client, tenant, instance_id=instance_id, cases=cases, config={"concurrency": 50}
    )
    r = await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)
    task_id = r.json()["task_id"]
    queued = (await engine_client.get(f"/v1/tasks/{task_id}", headers=tenant.headers)).json()
    limits = queued["summary"]["concurrency"]  # known before the run starts
    assert (limits["requested"], limits["effective"], limits["limited_by"]) == (50, 3, ["instance"])
    assert limits["instance_max_concurrency"] == 3 and limits["judge_max_concurrency"] is None
    assert (
        limits["note"]
        == "At most 3 cases run at once: the instance's max_concurrency (3) caps the requested concurrency 50."
    )
    task = await wait_for_task(engine_client, tenant, task_id)
    assert task["summary"]["concurrency"] == limits and task["summary"]["completed"] == 12
    suite = (await engine_client.get(f"/v1/evaluations/{suite_id}", headers=tenant.headers)).json()
    assert suite["results_summary"]["concurrency"] == limits
    assert fake.stats()["max_in_flight"] == 3  # the figure shown is the one that held

    uncapped = await create_suite(
        engine_client, tenant, instance_id=instance_id, cases=cases[:2], config={"concurrency": 2}
    )
    r = await engine_client.post(f"/v1/evaluations/{uncapped}/run", headers=tenant.headers)
    task = await wait_for_task(engine_client, tenant, r.json()["task_id"])
    limits = task["summary"]["concurrency"]
    assert (limits["requested"], limits["effective"], limits["limited_by"], limits["note"]) == (2, 2, [], None)


async def test_the_judge_endpoint_limit_is_shown_too(engine_client, tenant, fake):
    fake.set_scenario(
        {"rules": [{"model": JUDGE_MODEL, "target": "any", "json": {"verdict": True, "reasoning": "ok"}}]}
    )
    instance_id = await create_instance(engine_client, tenant, fake)  # max_concurrency 16
    suite_id = await create_suite(
        engine_client,
        tenant,
        instance_id=instance_id,
        config={"concurrency": 20},
        cases=[{"input_message": "hi", "expected_behavior": "greets"}],
    )
    r = await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)
    task = await wait_for_task(engine_client, tenant, r.json()["task_id"])
    limits = task["summary"]["concurrency"]
    assert (limits["effective"], limits["limited_by"], limits["judge_max_concurrency"]) == (8, ["instance", "judge"], 8)
    assert "the judge endpoint's limit (ASSAY_RUN_CONCURRENCY) (8) cap the requested" in limits["note"]
