"""Two runs of one suite whose judge verdicts differ, so scores change in known ways."""

from __future__ import annotations

from dataclasses import dataclass

from tests.engine.conftest import AGENT_MODEL, JUDGE_MODEL, create_instance, create_suite, wait_for_task


def verdict(contains: str | None, ok: bool, *, regex: str | None = None, times: int | None = None) -> dict:
    rule: dict = {
        "model": JUDGE_MODEL,
        "target": "any",
        "json": {"verdict": ok, "reasoning": "It is good." if ok else "It is bad."},
    }
    if contains is not None:
        rule["contains"] = contains
    if regex is not None:
        rule["regex"] = regex
    if times is not None:
        rule["times"] = times
    return rule


def agent_usage(prompt: int, completion: int) -> dict:
    return {"model": AGENT_MODEL, "usage": {"prompt_tokens": prompt, "completion_tokens": completion}}


@dataclass
class TwoRuns:
    """Base: c0-c10 pass (100), c11 fails (0), 15 tokens each. Head: c0-c9 fail, c10-c12 pass, 30 tokens each;
    c12 was added after the base run."""

    suite_id: str
    base: str
    head: str
    case_ids: dict[str, str]  # "c0" -> test case id


async def run_suite(client, env, suite_id: str) -> str:  # noqa: ANN001
    r = await client.post(f"/v1/evaluations/{suite_id}/run", headers=env.headers)
    assert r.status_code == 200, r.text
    task = await wait_for_task(client, env, r.json()["task_id"])
    assert task["status"] == "completed", task
    return task["task_id"]


async def make_two_runs(client, env, fake) -> TwoRuns:  # noqa: ANN001
    instance_id = await create_instance(client, env, fake)
    cases = [{"input_message": f"<c{i}> question", "expected_behavior": "answers well"} for i in range(12)]
    suite_id = await create_suite(
        client, env, instance_id=instance_id, cases=cases, config={"judge_cache": False, "concurrency": 4}
    )
    fake.set_scenario({"rules": [agent_usage(10, 5), verdict("<c11>", False), verdict(None, True)]})
    base = await run_suite(client, env, suite_id)
    r = await client.post(
        f"/v1/evaluations/{suite_id}/test-cases",
        json={"input_message": "<c12> question", "expected_behavior": "answers well", "sort_order": 12},
        headers=env.headers,
    )
    assert r.status_code == 201, r.text
    fake.set_scenario({"rules": [agent_usage(20, 10), verdict(None, False, regex="<c[0-9]>"), verdict(None, True)]})
    head = await run_suite(client, env, suite_id)
    listed = (await client.get(f"/v1/evaluations/{suite_id}/test-cases", headers=env.headers)).json()
    case_ids = {c["input_message"].split(">")[0][1:]: c["id"] for c in listed}
    return TwoRuns(suite_id, base, head, case_ids)
