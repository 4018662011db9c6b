"""Queries for run comparison and judge agreement: only the columns the analyses need."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.agreement import ReviewPoint, RunInfo, snapshot_run_info
from assay.domain.compare import ResultPoint
from assay.domain.runs import RunRecipe
from assay.errors import ResourceNotFound
from assay.storage.review_queue import override_count
from assay.storage.run_tables import ResultRow, RunRow


async def get_suite_run(
    *, session: AsyncSession, environment_id: uuid.UUID, suite_id: uuid.UUID, run_id: uuid.UUID
) -> RunRow:
    """A run of this evaluation in this environment, or 404."""
    row = await session.get(RunRow, run_id)
    if row is None or row.environment_id != environment_id or row.suite_id != suite_id:
        raise ResourceNotFound(f"Task {run_id} not found in this evaluation")
    return row


async def result_points(*, session: AsyncSession, run_id: uuid.UUID) -> list[ResultPoint]:
    """Every result of a run, as comparison points."""
    query = select(
        ResultRow.test_case_id,
        ResultRow.repetition,
        ResultRow.status,
        ResultRow.score,
        ResultRow.score_reason,
        ResultRow.latency_ms,
        ResultRow.tokens_used,
    ).where(ResultRow.run_id == run_id)
    return [
        ResultPoint(str(case_id), rep, status, score, reason, latency, tokens)
        # Core execution on the session's connection: no ORM row processing for 10,000-row runs.
        for case_id, rep, status, score, reason, latency, tokens in (await (await session.connection()).execute(query))
    ]


async def run_infos(
    *, session: AsyncSession, suite_id: uuid.UUID, run_id: uuid.UUID | None = None
) -> dict[str, RunInfo]:
    """Threshold, repetitions and evaluator types of the evaluation's runs (or of one of them).

    Only the snapshot's recipe and repetitions are read: the whole snapshot holds every case, and decoding
    it for a suite of large runs took most of a second."""
    query = select(RunRow.id, RunRow.snapshot["recipe"], RunRow.snapshot["repetitions"]).where(
        RunRow.suite_id == suite_id
    )
    if run_id is not None:
        query = query.where(RunRow.id == run_id)
    return {
        str(found): snapshot_run_info(
            str(found), RunRecipe.from_json(recipe or {}), int(repetitions) if repetitions is not None else 1
        )
        for found, recipe, repetitions in (await session.execute(query)).all()
    }


async def review_points(*, session: AsyncSession, run_ids: list[str], reviewed_only: bool = False) -> list[ReviewPoint]:
    """Results of these runs with their machine verdicts and override state (`reviewed_only`: overridden ones)."""
    if not run_ids:
        return []
    query = select(
        ResultRow.id,
        ResultRow.run_id,
        ResultRow.test_case_id,
        ResultRow.repetition,
        ResultRow.score,
        ResultRow.original_score,
        ResultRow.overrides,
        ResultRow.evaluator_results,
    ).where(ResultRow.run_id.in_([uuid.UUID(r) for r in run_ids]))
    if reviewed_only:
        query = query.where(override_count(session, ResultRow.overrides) > 0)
    return [
        ReviewPoint(str(run), str(case), rep, score, original, bool(overrides), list(verdicts or []), str(result_id))
        for result_id, run, case, rep, score, original, overrides, verdicts in (await session.execute(query)).all()
    ]


async def override_entries(*, session: AsyncSession, run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The override entries of the reviewed results of these runs, by result id (text)."""
    if not run_ids:
        return {}
    query = select(ResultRow.id, ResultRow.overrides).where(
        ResultRow.run_id.in_([uuid.UUID(r) for r in run_ids]), override_count(session, ResultRow.overrides) > 0
    )
    return {
        str(result_id): [e for e in entries or [] if isinstance(e, dict)]
        for result_id, entries in (await session.execute(query)).all()
    }
