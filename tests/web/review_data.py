"""A finished run to review: 4 cases × 2 repetitions with known judge verdicts (through the fake LLM server).

c0: the judge fails it both times; c1: the judge passes it once, then fails it (the repetitions disagree);
c2: passes, and the agent answers with HTML; c3: passes. The judge's reasoning for c0 holds HTML too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.analysis.helpers import run_suite, verdict
from tests.conftest import Env
from tests.engine.conftest import AGENT_MODEL, JUDGE_MODEL, create_instance, create_suite

HOSTILE_RESPONSE = "<script>document.title='owned'</script><b>bold?</b>"
HOSTILE_REASON = "<img src=x onerror=alert(1)> misses the point"


@dataclass
class ReviewRun:
    suite_id: str
    task_id: str
    case_ids: dict[str, str]  # "c0" -> test case id

    def label(self, test_case_id: str) -> str:
        return next(k for k, v in self.case_ids.items() if v == test_case_id)


async def make_review_run(client: httpx.AsyncClient, env: Env, fake: Any) -> ReviewRun:
    fake.set_scenario(
        {
            "rules": [
                {"model": AGENT_MODEL, "contains": "<c2>", "reply": HOSTILE_RESPONSE},
                {
                    "model": JUDGE_MODEL,
                    "target": "any",
                    "contains": "<c0>",
                    "json": {"verdict": False, "reasoning": HOSTILE_REASON},
                },
                verdict("<c1>", True, times=1),
                verdict("<c1>", False),
                verdict(None, True),
            ]
        }
    )
    instance_id = await create_instance(client, env, fake)
    cases = [{"input_message": f"<c{i}> question", "expected_behavior": "answers well"} for i in range(4)]
    suite_id = await create_suite(
        client, env, instance_id=instance_id, cases=cases, config={"repetitions": 2, "judge_cache": False}
    )
    task_id = await run_suite(client, env, suite_id)
    listed = (await client.get(f"/v1/evaluations/{suite_id}/test-cases", headers=env.headers)).json()
    case_ids = {c["input_message"].split(">")[0][1:]: c["id"] for c in listed}
    return ReviewRun(suite_id, task_id, case_ids)


async def api_results(client: httpx.AsyncClient, env: Env, run: ReviewRun) -> dict[str, dict[str, Any]]:
    """The run's results from the API, by result id."""
    answer = await client.get(
        f"/v1/evaluations/{run.suite_id}/results", params={"task_id": run.task_id}, headers=env.headers
    )
    assert answer.status_code == 200, answer.text
    return {r["id"]: r for r in answer.json()}


async def api_agreement(client: httpx.AsyncClient, env: Env, run: ReviewRun) -> dict[str, Any]:
    """The API's judge–human agreement for the run, per evaluator."""
    answer = await client.get(
        f"/v1/evaluations/{run.suite_id}/agreement", params={"task_id": run.task_id}, headers=env.headers
    )
    assert answer.status_code == 200, answer.text
    return {e["evaluator"]: e["human"] for e in answer.json()["evaluators"] if e["human"] is not None}
