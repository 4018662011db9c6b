"""The seeding helper of benchmarks and screenshots: bulk test cases, complete runs, overrides, summaries."""

from __future__ import annotations

import uuid
from datetime import timedelta

from assay.storage import runs as run_store
from assay.storage import suites as suite_store
from assay.storage.db import make_sessionmaker
from assay.storage.run_execution import get_run_by_id
from assay.storage.run_results import store_result_rows
from assay.testing.seed import seed_suite
from tests.conftest import Env


async def test_seeded_suite_has_cases_runs_and_overrides(app, env_a: Env) -> None:  # noqa: ANN001
    sessionmaker = make_sessionmaker(app.state.engine)
    environment_id = uuid.UUID(env_a.id)
    seeded = await seed_suite(
        sessionmaker, environment_id=environment_id, secret_key="s" * 32, cases=300, runs=2, override_every=10
    )
    async with sessionmaker() as session:
        suite = await suite_store.get_suite(session=session, environment_id=environment_id, suite_id=seeded.suite_id)
        cases = await suite_store.list_test_cases(session=session, suite_id=suite.id)
        assert [c.sort_order for c in cases] == list(range(300))
        assert all(c.tags and c.expected_tool_calls for c in cases)
        runs = await run_store.list_runs(session=session, suite_id=suite.id)
        assert sorted(r.id for r in runs) == sorted(seeded.run_ids)
        assert suite.status == "completed" and suite.results_summary["task_id"] == str(seeded.run_ids[-1])
        for run in runs:
            results = await run_store.list_results(session=session, run_id=run.id)
            assert len(results) == 300 == run.completed_cases == run.summary["completed"]
            assert run.status == "completed" and run.summary["passed"] + run.summary["failed"] + run.summary[
                "error"
            ] == len(results)
            overridden = [r for r in results if r.overrides]
            assert overridden and all(r.original_score == r.overrides[0]["previous_score"] for r in overridden)
            assert {r.status for r in results} >= {"passed", "failed"}
            assert all(r.evaluator_results for r in results if r.status != "error")
            assert len({r.test_case_id for r in results}) == 300


async def test_rows_stored_twice_are_counted_once(app, env_a: Env) -> None:  # noqa: ANN001
    """A chunk that runs again after a worker died adds only the results it had not stored to the run's counts."""
    sessionmaker = make_sessionmaker(app.state.engine)
    seeded = await seed_suite(
        sessionmaker, environment_id=uuid.UUID(env_a.id), secret_key="s" * 32, cases=40, runs=1, override_every=0
    )
    run_id = seeded.run_ids[0]
    async with sessionmaker() as session:
        stored = await run_store.list_results(session=session, run_id=run_id)
        run = await get_run_by_id(session=session, run_id=run_id)
        before = (run.completed_cases, run.error_cases)
        assert before[0] == 40
    columns = ("run_id", "suite_id", "environment_id", "test_case_id", "repetition", "status", "score")
    again = [{c: getattr(r, c) for c in columns} for r in stored[:25]]
    fresh = [{**again[0], "test_case_id": uuid.uuid4(), "status": "error", "score": None}]
    async with sessionmaker() as session:
        count = await store_result_rows(session=session, run_id=run_id, rows=again + fresh, lease=timedelta(minutes=1))
        await session.commit()
    assert (count.stored, count.errors) == (1, 1)
    async with sessionmaker() as session:
        run = await get_run_by_id(session=session, run_id=run_id)
        assert (run.completed_cases, run.error_cases) == (before[0] + 1, before[1] + 1)
        assert len(await run_store.list_results(session=session, run_id=run_id)) == 41
