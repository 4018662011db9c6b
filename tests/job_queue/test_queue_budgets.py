"""One RPM and TPM budget for the cluster: three worker processes share an endpoint's limits through PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest import make_env
from tests.job_queue.conftest import Cluster
from tests.job_queue.test_queue_runs import _finished, _start, _suite, _until

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(360)]

RPM = 240  # 4 requests a second: below what three workers do even on a loaded machine


async def test_three_workers_keep_the_combined_rate_within_the_budget(cluster: Cluster, helper_app):
    import httpx

    cluster.fake.set_scenario({"latency_ms": 20, "default_reply": "ok", "rpm_limit": RPM, "rpm_burst_s": 1.0})
    cluster.fake.reset()
    env = await make_env(helper_app, "budget")
    async with httpx.AsyncClient(base_url=cluster.server_url, timeout=30) as client:
        suite_id = await _suite(client, helper_app, env, cluster, cases=50, requests_per_minute=RPM)
        task_id = await _start(client, env, suite_id)
        task = await _until(client, env, task_id, _finished, timeout=90)
    assert task["status"] == "completed" and task["progress"]["completed"] == 50
    log = cluster.fake.requests()
    statuses = {e["status"] for e in log}
    assert statuses == {200}, f"{sum(e['status'] == 429 for e in log)} requests were refused with 429"
    stamps = sorted(e["ts"] for e in log)
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    # Within 10 % of the budget: four requests a second leave the workers idle most of the time, and the
    # shared bucket holds half a second of requests, so a late draw is made up at the next.
    assert 0.9 * RPM / 60 <= rate <= 1.1 * RPM / 60, f"{rate:.2f} requests/s for a budget of {RPM / 60:.0f}/s"


TPM = 192_000  # 3,200 tokens a second: about four of these 800-token requests


async def test_three_workers_keep_the_combined_token_rate_within_the_budget(cluster: Cluster, helper_app):
    import httpx

    from assay.engine.queue.budgets import TOKEN_BURST_SECONDS

    # The fake takes a request's prompt tokens when it arrives and its completion tokens when it answers,
    # from a bucket of the same size as the cluster's (five seconds of the rate); beyond it: 429.
    cluster.fake.set_scenario({"latency_ms": 20, "tpm_limit": TPM, "tpm_burst_s": TOKEN_BURST_SECONDS})
    cluster.fake.reset()
    env = await make_env(helper_app, "token-budget")
    padding = " " + "lorem ipsum " * 133  # about 400 tokens, echoed back: 800 a request
    async with httpx.AsyncClient(base_url=cluster.server_url, timeout=30) as client:
        suite_id = await _suite(
            client,
            helper_app,
            env,
            cluster,
            cases=60,
            padding=padding,
            tokens_per_minute=TPM,
            parameters={"max_tokens": 450},
        )
        task_id = await _start(client, env, suite_id)
        task = await _until(client, env, task_id, _finished, timeout=120)
    assert task["status"] == "completed" and task["progress"]["completed"] == 60
    log = sorted(cluster.fake.requests(), key=lambda e: e["ts"])
    refused = sum(e["status"] == 429 for e in log)
    t0 = log[0]["ts"]
    trail = [(round(e["ts"] - t0, 3), e["status"], e.get("tokens")) for e in log]
    assert refused == 0, f"{refused} requests were refused with 429: {trail}"
    assert all(700 < e["tokens"] < 900 for e in log)
    # After the first bucketful (the burst both buckets allow), the combined rate is the budget's.
    burst = TPM / 60 * TOKEN_BURST_SECONDS
    spent, start = 0.0, None
    for entry in log:
        spent += entry["tokens"]
        if start is None and spent > burst:
            start, spent = entry["ts"], 0.0
    assert start is not None
    rate = spent / (log[-1]["ts"] - start)
    assert rate <= 1.1 * TPM / 60, f"{rate:.0f} tokens/s for a budget of {TPM / 60:.0f}/s"
    assert rate >= 0.5 * TPM / 60, f"{rate:.0f} tokens/s: the workers were not held by the budget"


async def test_workers_endpoint_and_status_command_show_the_cluster(cluster: Cluster, helper_app):
    import json
    import os
    import subprocess
    import sys

    import httpx

    from tests.job_queue.conftest import SRC

    env = await make_env(helper_app, "status")
    async with httpx.AsyncClient(base_url=cluster.server_url, timeout=30) as client:
        r = await client.get("/v1/workers", headers=env.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (await client.get("/v1/workers")).status_code == 401
    alive = [w for w in body["workers"] if w["alive"]]
    assert len(alive) == 3 and all(w["concurrency"] == 10 for w in alive)
    assert body["cluster_concurrency"] == 30 and body["stalled_jobs"] == 0
    assert all("label" not in b for b in body["budgets"])
    environ = {**os.environ, "PYTHONPATH": SRC, "ASSAY_DATABASE_URL": cluster.database_url, "ASSAY_DISPATCH": "queue"}
    out = subprocess.run(
        [sys.executable, "-m", "assay.cli", "worker", "status", "--json"],
        env=environ,
        capture_output=True,
        timeout=120,
        check=True,
    )
    shown = json.loads(out.stdout)
    assert sum(w["alive"] for w in shown["workers"]) == 3
    assert isinstance(shown["queues"], dict)
