"""`services/runs.py` against real SQLite: start, cancel and override, as the API and `assay run` call them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assay.errors import ResourceNotFound
from assay.local.runner import store_suite
from assay.local.suitefile import load_suite
from assay.services.runs import cancel_run, override_result, start_run
from assay.settings import Settings
from assay.storage import runs as run_store
from assay.storage import suites as suite_store
from assay.storage.db import Session, make_engine, make_sessionmaker
from assay.storage.environments import create_environment
from assay.storage.migrate import upgrade
from assay.storage.run_tables import ResultRow

SUITE = """\
name: service suite
pass_threshold: 60
instance:
  kind: python
  callable: toy_agent:echo
evaluators:
  - type: contains
    value: echo
cases:
  - input: hello
  - input: again
"""


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/runs.db")
    await upgrade(engine)
    try:
        async with make_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def _suite(session: Session, tmp_path: Path, settings: Settings):  # noqa: ANN202
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE)
    env = await create_environment(session=session, name="services")
    suite_id, _ = await store_suite(
        session, load_suite(path), environment_id=env.id, repetitions=1, secret_key=settings.secret_key
    )
    await session.commit()
    return env.id, suite_id


async def test_start_then_cancel_a_queued_run(session: Session, tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/runs.db")
    env_id, suite_id = await _suite(session, tmp_path, settings)
    woken: list[None] = []
    run = await start_run(
        session=session, environment_id=env_id, suite_id=suite_id, settings=settings, notify=lambda: woken.append(None)
    )
    assert (run.status, run.total_cases, len(woken)) == ("queued", 2, 1)
    assert (await suite_store.get_suite(session=session, environment_id=env_id, suite_id=suite_id)).status == "queued"

    cancelled = await cancel_run(session=session, environment_id=env_id, run_id=run.id)
    assert cancelled.status == "cancelled" and cancelled.cancel_requested
    suite = await suite_store.get_suite(session=session, environment_id=env_id, suite_id=suite_id)
    assert suite.status == "cancelled"


async def test_start_run_of_another_environment_is_not_found(session: Session, tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/runs.db")
    _, suite_id = await _suite(session, tmp_path, settings)
    other = await create_environment(session=session, name="other")
    with pytest.raises(ResourceNotFound):
        await start_run(session=session, environment_id=other.id, suite_id=suite_id, settings=settings)


async def test_override_follows_the_run_threshold_and_keeps_the_original(session: Session, tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/runs.db")
    env_id, suite_id = await _suite(session, tmp_path, settings)
    run = await start_run(session=session, environment_id=env_id, suite_id=suite_id, settings=settings)
    case = (await suite_store.list_test_cases(session=session, suite_id=suite_id))[0]
    result = ResultRow(
        run_id=run.id, suite_id=suite_id, environment_id=env_id, test_case_id=case.id, status="failed", score=20.0
    )
    session.add(result)
    await session.commit()

    first = await override_result(
        session=session,
        environment_id=env_id,
        suite_id=suite_id,
        result_id=result.id,
        score=65.0,
        reason="looks right",
        by="reviewer",
    )
    assert (first.score, first.status, first.original_score, first.score_reason) == (
        65.0,
        "passed",
        20.0,
        "looks right",
    )
    second = await override_result(
        session=session,
        environment_id=env_id,
        suite_id=suite_id,
        result_id=result.id,
        score=55.0,
        reason=None,
        by="reviewer",
    )
    assert (second.score, second.status, second.original_score, second.score_reason) == (
        55.0,
        "failed",
        20.0,
        "looks right",
    )
    assert [(o["score"], o["previous_score"], o["by"]) for o in second.overrides] == [
        (65.0, 20.0, "reviewer"),
        (55.0, 65.0, "reviewer"),
    ]
    stored = await run_store.get_run(session=session, environment_id=env_id, run_id=run.id)
    # The run's summary is recomputed from the overridden score and keeps the run's concurrency.
    assert (stored.summary["failed"], stored.summary["mean_score"]) == (1, 55.0)
    assert stored.summary["concurrency"]["requested"] == 8
