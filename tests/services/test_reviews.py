"""`services/reviews.py` against real SQLite: undo appends the way back, stacks, and refuses what it cannot undo."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assay.errors import ConflictError, ResourceNotFound
from assay.services.reviews import last_standing_override, undo_last_override
from assay.services.runs import override_result, start_run
from assay.settings import Settings
from assay.storage import runs as run_store
from assay.storage import suites as suite_store
from assay.storage.db import Session, make_engine, make_sessionmaker
from assay.storage.environments import create_environment
from assay.storage.migrate import upgrade
from assay.storage.run_tables import ResultRow
from tests.services.test_runs import _suite


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/runs.db")
    await upgrade(engine)
    try:
        async with make_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def _result(
    session: Session, tmp_path: Path, score: float | None = 20.0
) -> tuple[uuid.UUID, uuid.UUID, ResultRow]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/runs.db")
    env_id, suite_id = await _suite(session, tmp_path, settings)
    run = await start_run(session=session, environment_id=env_id, suite_id=suite_id, settings=settings)
    case = (await suite_store.list_test_cases(session=session, suite_id=suite_id))[0]
    status = "error" if score is None else "failed"
    result = ResultRow(
        run_id=run.id, suite_id=suite_id, environment_id=env_id, test_case_id=case.id, status=status, score=score
    )
    session.add(result)
    await session.commit()
    return env_id, suite_id, result


def test_last_standing_override_skips_undos_and_what_they_undid() -> None:
    assert last_standing_override([]) is None
    assert last_standing_override([{"score": 1}]) == 0
    assert last_standing_override([{"score": 1}, {"score": 2}, {"score": 1, "undoes": 1}]) == 0
    assert last_standing_override([{"score": 1}, {"score": 0, "undoes": 0}]) is None
    assert last_standing_override([{"score": 1}, {"score": 0, "undoes": 0}, {"score": 5}]) == 2


async def test_undo_stacks_back_to_the_original_and_keeps_every_entry(session: Session, tmp_path: Path) -> None:
    env_id, suite_id, result = await _result(session, tmp_path)

    async def override(score: float, reason: str | None) -> None:
        await override_result(
            session=session,
            environment_id=env_id,
            suite_id=suite_id,
            result_id=result.id,
            score=score,
            reason=reason,
            by="ann",
        )

    async def undo(by: str = "ann") -> ResultRow:
        return await undo_last_override(
            session=session, environment_id=env_id, suite_id=suite_id, result_id=result.id, by=by
        )

    await override(65.0, "first look")
    await override(90.0, "second look")
    row = await undo()
    assert (row.score, row.status, row.score_reason, row.original_score) == (65.0, "passed", "first look", 20.0)
    row = await undo()
    assert (row.score, row.status) == (20.0, "failed")
    assert [(o["score"], o["previous_score"], o["by"], o.get("undoes")) for o in row.overrides] == [
        (65.0, 20.0, "ann", None),
        (90.0, 65.0, "ann", None),
        (65.0, 90.0, "ann", 1),
        (20.0, 65.0, "ann", 0),
    ]
    assert all(o["at"] for o in row.overrides)
    stored = await run_store.get_run(session=session, environment_id=env_id, run_id=row.run_id)
    assert (stored.summary["failed"], stored.summary["mean_score"]) == (1, 20.0)
    with pytest.raises(ConflictError, match="no override to undo"):
        await undo()


async def test_undo_refuses_someone_elses_override_and_an_empty_score(session: Session, tmp_path: Path) -> None:
    env_id, suite_id, result = await _result(session, tmp_path)
    await override_result(
        session=session,
        environment_id=env_id,
        suite_id=suite_id,
        result_id=result.id,
        score=80.0,
        reason=None,
        by="bob",
    )
    with pytest.raises(ConflictError, match="another key"):
        await undo_last_override(
            session=session, environment_id=env_id, suite_id=suite_id, result_id=result.id, by="ann"
        )
    other = await create_environment(session=session, name="elsewhere")
    with pytest.raises(ResourceNotFound):
        await undo_last_override(
            session=session, environment_id=other.id, suite_id=suite_id, result_id=result.id, by="bob"
        )


async def test_undo_cannot_bring_back_an_errored_results_missing_score(session: Session, tmp_path: Path) -> None:
    env_id, suite_id, result = await _result(session, tmp_path, score=None)
    await override_result(
        session=session,
        environment_id=env_id,
        suite_id=suite_id,
        result_id=result.id,
        score=50.0,
        reason=None,
        by="ann",
    )
    with pytest.raises(ConflictError, match="empty score"):
        await undo_last_override(
            session=session, environment_id=env_id, suite_id=suite_id, result_id=result.id, by="ann"
        )
