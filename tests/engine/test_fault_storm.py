"""A run under a storm of LLM faults (429 with Retry-After, 500, hangs, malformed answers) ends, and every case
is scored or errored with a reason, without the provider limiters collapsing."""

from __future__ import annotations

import time

from assay.providers import EndpointConfig, get_registry
from tests.engine.conftest import AGENT_MODEL, JUDGE_MODEL, create_instance, create_suite, wait_for_task

FAULTS = {
    "rate_429": 0.2,
    "retry_after_s": 1,
    "rate_500": 0.05,
    "rate_timeout": 0.05,
    "timeout_s": 2,
    "rate_malformed": 0.05,
}


async def test_forty_cases_under_the_fault_mix(engine_client, tenant, fake, engine_settings):
    fake.set_scenario({"latency_ms": 20, "seed": 11, "faults": FAULTS})
    # the agent gives up on a hung request after 1 s; the judge's hung requests end with a 504 after 2 s
    instance_id = await create_instance(engine_client, tenant, fake, timeout_s=1, max_concurrency=8)
    cases = [{"input_message": f"question {i}", "expected_behavior": "answers the question"} for i in range(40)]
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id, cases=cases)
    started = time.monotonic()
    r = await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)
    task = await wait_for_task(engine_client, tenant, r.json()["task_id"], timeout=60)
    elapsed = time.monotonic() - started
    assert task["status"] == "completed" and task["progress"]["completed"] == 40, task
    assert elapsed < 30, elapsed

    by_status = fake.stats()["by_status"]
    assert by_status.get("429", 0) >= 5 and by_status.get("500", 0) + by_status.get("504", 0) >= 2, by_status
    results = (await engine_client.get(f"/v1/evaluations/{suite_id}/results", headers=tenant.headers)).json()
    assert len(results) == 40
    for result in results:
        if result["status"] == "error":
            assert result["error"] or result["score_reason"], result
        else:
            assert result["status"] in {"passed", "failed"} and result["score"] is not None, result
    assert sum(result["status"] != "error" for result in results) >= 30

    # scattered 429s, errors and hangs did not shrink either endpoint's pool
    registry = get_registry()
    for model, size in ((AGENT_MODEL, 8), (JUDGE_MODEL, engine_settings.run_concurrency)):
        limiter = registry.limiter(EndpointConfig(model=model, base_url=fake.base_url))
        assert limiter.finished >= 40 and limiter.decreases == 0 and limiter.current_limit == size, model
