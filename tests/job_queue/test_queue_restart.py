"""A PostgreSQL restart in the middle of a run: the server and the workers reconnect and the run finishes.

The restart needs a cluster of its own (the suite's PostgreSQL serves the other tests meanwhile)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from assay.api.app import create_app
from assay.engine.queue.schema import apply_queue_schema_at
from assay.storage.db import make_engine
from assay.storage.migrate import upgrade
from assay.testing.fake_llm import FakeLLMServer
from assay.testing.throwaway_postgres import ThrowawayPostgres, throwaway_postgres
from tests.conftest import make_env, uvicorn_in_thread
from tests.job_queue.conftest import Cluster
from tests.job_queue.test_queue_runs import _calls_per_case, _finished, _start, _stored_inputs, _suite, _until

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]

CASES = 240


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as postgres:
        if postgres is None:
            pytest.skip("needs Debian's postgresql package")
        yield postgres


async def _prepare(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    await apply_queue_schema_at(url)


async def test_a_postgres_restart_mid_run_is_survived_by_server_and_workers(own_postgres: ThrowawayPostgres) -> None:
    await _prepare(own_postgres.url)
    with FakeLLMServer() as fake:
        fake.set_scenario({"latency_ms": 300, "default_reply": "ok"})
        probe = Cluster(own_postgres.url, "", fake)
        helper_app = create_app(probe.settings())
        try:
            with uvicorn_in_thread(create_app(probe.settings())) as server_url:
                cluster = Cluster(own_postgres.url, server_url, fake)
                try:
                    for _ in range(2):
                        cluster.start_worker()
                    await cluster.wait_for_workers(2)
                    env = await make_env(helper_app, "restart")
                    async with httpx.AsyncClient(base_url=server_url, timeout=30) as client:
                        suite_id = await _suite(client, helper_app, env, cluster, cases=CASES)
                        task_id = await _start(client, env, suite_id)
                        before = await _until(
                            client, env, task_id, lambda t: t["progress"]["completed"] >= 30, timeout=60
                        )
                        assert before["progress"]["completed"] < CASES / 2, "the run was nearly over already"
                        own_postgres.stop("fast")  # every session is ended, as a restart for maintenance does
                        await asyncio.sleep(1.0)
                        own_postgres.start()
                        task = await _until(client, env, task_id, _finished, timeout=150)
                        assert task["status"] == "completed", (task, cluster.log_tails())
                        assert task["progress"]["completed"] == CASES
                        assert all(w.poll() is None for w in cluster.workers), cluster.log_tails()
                    stored = await _stored_inputs(helper_app, task_id)
                finally:
                    cluster.stop_all()
        finally:
            await helper_app.state.engine.dispose()
        assert stored == {f"case-{i}" for i in range(CASES)}
        calls, _ = _calls_per_case(cluster)
        assert set(calls) == stored
        # A case may be called again only if the restart lost its result before it was stored.
        assert sum(n - 1 for n in calls.values()) <= 2 * 10, calls.most_common(5)
