"""Runs as chunk jobs on PostgreSQL: a server that only queues, three worker processes, faults along the way."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from assay.services.test_cases import import_test_cases
from assay.storage.db import make_sessionmaker
from tests.conftest import Env, make_env
from tests.engine.conftest import AGENT_MODEL
from tests.job_queue.conftest import Cluster

KILL_CASES = int(os.environ.get("ASSAY_TEST_QUEUE_KILL_CASES", "2000"))
"""Cases of the SIGKILL test (ASSAY_TEST_QUEUE_KILL_CASES changes it)."""

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(360)]


async def _suite(
    client: httpx.AsyncClient, app: Any, env: Env, cluster: Cluster, cases: int, padding: str = "", **instance: Any
) -> str:
    body = {
        "name": "agent",
        "kind": "openai_chat",
        "config": {"base_url": cluster.fake.base_url, "model": AGENT_MODEL, "max_concurrency": 64, **instance},
    }
    r = await client.post("/v1/instances", json=body, headers=env.headers)
    assert r.status_code == 201, r.text
    r = await client.post(
        "/v1/evaluations", json={"name": "big", "instance_id": r.json()["id"], "config": {}}, headers=env.headers
    )
    assert r.status_code == 201, r.text
    suite_id = r.json()["id"]
    lines = "\n".join(json.dumps({"input_message": f"case-{i}{padding}"}) for i in range(cases))
    async with make_sessionmaker(app.state.engine)() as session:
        added = await import_test_cases(
            session=session,
            environment_id=uuid.UUID(env.id),
            suite_id=uuid.UUID(suite_id),
            filename="cases.jsonl",
            content=lines.encode(),
        )
    assert added == cases
    return suite_id


async def _start(client: httpx.AsyncClient, env: Env, suite_id: str, **body: Any) -> str:
    r = await client.post(f"/v1/evaluations/{suite_id}/run", json=body or None, headers=env.headers)
    assert r.status_code in (200, 201, 202), r.text
    return str(r.json()["task_id"])


async def _task(client: httpx.AsyncClient, env: Env, task_id: str) -> dict[str, Any]:
    return dict((await client.get(f"/v1/tasks/{task_id}", headers=env.headers)).json())


async def _until(client: httpx.AsyncClient, env: Env, task_id: str, done: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task = await _task(client, env, task_id)
        if done(task):
            return task
        assert time.monotonic() < deadline, f"task still {task['status']}: {task['progress']}"
        await asyncio.sleep(0.1)


def _finished(task: dict[str, Any]) -> bool:
    return task["status"] in {"completed", "failed", "cancelled"}


async def _stored_inputs(app: Any, task_id: str) -> set[str]:
    """The input messages of the cases that have a stored result in the run."""
    query = text(
        "SELECT c.input_message FROM results r JOIN test_cases c ON c.id = r.test_case_id WHERE r.run_id = :run"
    )
    async with app.state.engine.connect() as conn:
        return {row[0] for row in (await conn.execute(query, {"run": uuid.UUID(task_id)})).all()}


def _calls_per_case(cluster: Cluster) -> tuple[Counter[str], dict[str, float]]:
    calls: Counter[str] = Counter()
    first: dict[str, float] = {}
    for entry in cluster.fake.requests():
        case = entry.get("last_user")
        if case is None:  # a request torn by the SIGKILL before its body arrived (answered 400, never stored)
            assert entry["status"] == 400, entry
            continue
        calls[case] += 1
        first.setdefault(case, entry["ts"])
    return calls, first


async def test_a_killed_worker_s_chunks_are_retried_and_every_case_has_one_result(cluster, helper_app):
    cluster.fake.set_scenario({"latency_ms": 150, "default_reply": "ok"})
    cluster.fake.reset()
    env = await make_env(helper_app, "kill")
    async with httpx.AsyncClient(base_url=cluster.server_url, timeout=30) as client:
        suite_id = await _suite(client, helper_app, env, cluster, cases=KILL_CASES)
        task_id = await _start(client, env, suite_id)
        await _until(client, env, task_id, lambda t: t["progress"]["completed"] >= 40, timeout=30)
        victim = cluster.workers[0]
        victim.send_signal(signal.SIGKILL)
        killed_at = time.time()
        victim.wait(5)
        await asyncio.sleep(0.3)  # a commit the killed process had already sent lands before we look
        stored_at_kill = await _stored_inputs(helper_app, task_id)
        task = await _until(client, env, task_id, _finished, timeout=60 + KILL_CASES / 10)
        cluster.workers.remove(victim)
        replacement = cluster.start_worker()
    assert task["status"] == "completed", task
    assert task["progress"]["completed"] == KILL_CASES
    summary = task.get("results_summary") or task.get("summary") or {}
    if summary:
        assert summary.get("completed", KILL_CASES) == KILL_CASES
    calls, first = _calls_per_case(cluster)
    assert set(calls) == {f"case-{i}" for i in range(KILL_CASES)}
    repeated = {case: n for case, n in calls.items() if n > 1}
    # Only cases the killed worker had started and not stored were called again, once more each.
    assert 0 < len(stored_at_kill) < KILL_CASES
    assert not set(repeated) & stored_at_kill, "a case with a stored result was called again"
    assert all(first[case] <= killed_at and n == 2 for case, n in repeated.items()), repeated
    assert replacement.poll() is None
    await cluster.wait_for_workers(3)  # the next test has three workers again


async def test_cancel_stops_the_chunks_on_every_worker(cluster, helper_app):
    cluster.fake.set_scenario({"latency_ms": 100, "default_reply": "ok"})
    cluster.fake.reset()
    env = await make_env(helper_app, "cancel")
    async with httpx.AsyncClient(base_url=cluster.server_url, timeout=30) as client:
        suite_id = await _suite(client, helper_app, env, cluster, cases=400)
        task_id = await _start(client, env, suite_id)
        await _until(client, env, task_id, lambda t: t["progress"]["completed"] >= 30, timeout=30)
        r = await client.post(f"/v1/tasks/{task_id}/cancel", headers=env.headers)
        assert r.status_code in (200, 202), r.text
        task = await _until(client, env, task_id, _finished, timeout=60)
        ended_at = time.time()
        await asyncio.sleep(1.0)
    assert task["status"] == "cancelled"
    assert task["progress"]["completed"] < 400
    # The run ends only when every chunk on every worker has stopped: nothing calls the agent afterwards.
    late = [e for e in cluster.fake.requests() if e["ts"] > ended_at]
    assert late == [], [(e["ts"] - ended_at, e["last_user"]) for e in late][:5]


async def test_sigterm_drains_a_worker_without_repeating_a_case(cluster, helper_app):
    cluster.fake.set_scenario({"latency_ms": 150, "default_reply": "ok"})
    cluster.fake.reset()
    env = await make_env(helper_app, "drain")
    async with httpx.AsyncClient(base_url=cluster.server_url, timeout=30) as client:
        suite_id = await _suite(client, helper_app, env, cluster, cases=240)
        task_id = await _start(client, env, suite_id)
        await _until(client, env, task_id, lambda t: t["progress"]["completed"] >= 30, timeout=30)
        leaving = cluster.workers[0]
        leaving.send_signal(signal.SIGTERM)
        exit_code = await asyncio.to_thread(leaving.wait, 60)
        cluster.workers.remove(leaving)
        task = await _until(client, env, task_id, _finished, timeout=90)
        cluster.start_worker()
    assert exit_code == 0
    assert task["status"] == "completed" and task["progress"]["completed"] == 240
    calls, _ = _calls_per_case(cluster)
    # Draining finished and stored its cases in flight; the rest of its chunks went back to the queue.
    assert len(calls) == 240 and set(calls.values()) == {1}
    await cluster.wait_for_workers(3)
