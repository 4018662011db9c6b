"""Online evaluation as queue jobs: events ingested by a server that only queues, evaluated by worker processes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from assay.storage.online_tables import EvaluationRunRow
from tests.conftest import make_env
from tests.job_queue.conftest import Cluster
from tests.online.conftest import create_evaluation, evaluation_events, generation_event, send

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(360)]


async def test_each_evaluation_and_event_pair_runs_once_across_workers(cluster: Cluster, helper_app):
    env = await make_env(helper_app, "online")
    async with httpx.AsyncClient(base_url=cluster.server_url, timeout=30) as http:
        evaluations = [(await create_evaluation(http, env, name=f"hog-{n}"))["id"] for n in range(2)]
        events = [generation_event(distinct_id=f"user-{i}") for i in range(60)]
        for start in range(0, len(events), 20):
            await send(http, env, events[start : start + 20])
        deadline = time.monotonic() + 60
        while True:
            verdicts = await evaluation_events(http, env)
            if len(verdicts) >= 120:
                break
            assert time.monotonic() < deadline, f"{len(verdicts)} of 120 evaluations"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # any duplicate would show up now
        verdicts = await evaluation_events(http, env)
    pairs = Counter((v["properties"]["$ai_evaluation_id"], v["properties"]["$ai_target_event_id"]) for v in verdicts)
    assert len(pairs) == 120 and set(pairs.values()) == {1}
    assert {e for e, _ in pairs} == set(evaluations)
    async with helper_app.state.sessionmaker() as session:
        rows = list(
            await session.scalars(select(EvaluationRunRow).where(EvaluationRunRow.environment_id == uuid.UUID(env.id)))
        )
    assert len(rows) == 120
    assert {r.status for r in rows} == {"completed"}
