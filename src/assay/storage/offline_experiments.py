"""Offline experiments: the experiment rows, their accepted items and results, and the run rows they feed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.storage.experiment_tables import ExperimentItemRow, ExperimentResultRow, OfflineExperimentRow
from assay.storage.run_tables import ResultRow, RunRow
from assay.storage.tables import TestCaseRow


async def get_experiment(*, session: AsyncSession, experiment_id: uuid.UUID) -> OfflineExperimentRow | None:
    """An experiment by id, whichever environment it belongs to (ids are chosen by clients)."""
    return await session.get(OfflineExperimentRow, experiment_id)


async def add_experiment(*, session: AsyncSession, fields: dict[str, Any]) -> OfflineExperimentRow:
    row = OfflineExperimentRow(**fields)
    session.add(row)
    await session.flush()
    return row


async def items_by_id(
    *, session: AsyncSession, experiment_id: uuid.UUID, item_ids: set[uuid.UUID]
) -> dict[uuid.UUID, ExperimentItemRow]:
    if not item_ids:
        return {}
    rows = await session.scalars(
        select(ExperimentItemRow).where(
            ExperimentItemRow.experiment_id == experiment_id, ExperimentItemRow.item_id.in_(item_ids)
        )
    )
    return {r.item_id: r for r in rows}


async def results_of_items(
    *, session: AsyncSession, experiment_id: uuid.UUID, item_ids: set[uuid.UUID]
) -> list[ExperimentResultRow]:
    """Every accepted result of these items, oldest first."""
    if not item_ids:
        return []
    rows = await session.scalars(
        select(ExperimentResultRow)
        .where(ExperimentResultRow.experiment_id == experiment_id, ExperimentResultRow.item_id.in_(item_ids))
        .order_by(ExperimentResultRow.id)
    )
    return list(rows)


async def next_repetitions(
    *, session: AsyncSession, experiment_id: uuid.UUID, case_ids: set[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """For each test case, the repetition number its next item in the experiment gets."""
    if not case_ids:
        return {}
    rows = await session.execute(
        select(ExperimentItemRow.test_case_id, func.max(ExperimentItemRow.repetition))
        .where(ExperimentItemRow.experiment_id == experiment_id, ExperimentItemRow.test_case_id.in_(case_ids))
        .group_by(ExperimentItemRow.test_case_id)
    )
    found = {case: int(rep) + 1 for case, rep in rows.all()}
    return {case: found.get(case, 0) for case in case_ids}


async def add_rows(*, session: AsyncSession, rows: list[Any]) -> None:
    """Insert accepted items or results; flushes."""
    session.add_all(rows)
    await session.flush()


async def counts(*, session: AsyncSession, experiment_id: uuid.UUID) -> tuple[int, int]:
    """(accepted items, accepted results) of an experiment."""
    items = await session.scalar(
        select(func.count()).select_from(ExperimentItemRow).where(ExperimentItemRow.experiment_id == experiment_id)
    )
    results = await session.scalar(
        select(func.count()).select_from(ExperimentResultRow).where(ExperimentResultRow.experiment_id == experiment_id)
    )
    return int(items or 0), int(results or 0)


async def ensure_test_cases(
    *, session: AsyncSession, environment_id: uuid.UUID, suite_id: uuid.UUID, cases: dict[uuid.UUID, dict[str, Any]]
) -> None:
    """Add the suite's test cases with these ids that it does not have yet (`cases`: id -> fields)."""
    if not cases:
        return
    existing = set(
        await session.scalars(select(TestCaseRow.id).where(TestCaseRow.suite_id == suite_id, TestCaseRow.id.in_(cases)))
    )
    order = int(await session.scalar(select(func.count()).where(TestCaseRow.suite_id == suite_id)) or 0)
    for case_id, fields in cases.items():
        if case_id not in existing:
            session.add(
                TestCaseRow(id=case_id, environment_id=environment_id, suite_id=suite_id, sort_order=order, **fields)
            )
            order += 1
    await session.flush()


async def write_results(*, session: AsyncSession, run: RunRow, rows: list[dict[str, Any]]) -> None:
    """Insert or replace the run's result rows (one per run, case and repetition) and move its counters."""
    case_ids = {values["test_case_id"] for values in rows}
    existing = {
        (r.test_case_id, r.repetition): r
        for r in await session.scalars(
            select(ResultRow).where(ResultRow.run_id == run.id, ResultRow.test_case_id.in_(case_ids))
        )
    }
    for values in rows:
        found = existing.get((values["test_case_id"], values["repetition"]))
        if found is None:
            session.add(ResultRow(**values))
        else:
            for name, value in values.items():
                if name not in ("id", "created_at", "overrides", "original_score"):
                    setattr(found, name, value)
    await session.flush()
    completed, errors = (
        await session.execute(
            select(func.count(), func.count().filter(ResultRow.status == "error")).where(ResultRow.run_id == run.id)
        )
    ).one()
    run.completed_cases, run.error_cases = int(completed), int(errors)
    await session.flush()


async def experiment_shape(
    *, session: AsyncSession, experiment_id: uuid.UUID
) -> tuple[set[uuid.UUID], set[uuid.UUID], int]:
    """(test case ids, scorer version ids, repetitions) of what an experiment accepted."""
    cases = await session.execute(
        select(ExperimentItemRow.test_case_id, func.max(ExperimentItemRow.repetition))
        .where(ExperimentItemRow.experiment_id == experiment_id)
        .group_by(ExperimentItemRow.test_case_id)
    )
    pairs = cases.all()
    versions = await session.scalars(
        select(ExperimentResultRow.scorer_version_id)
        .where(ExperimentResultRow.experiment_id == experiment_id)
        .distinct()
    )
    return {p[0] for p in pairs}, set(versions), max((int(p[1]) + 1 for p in pairs), default=1)
