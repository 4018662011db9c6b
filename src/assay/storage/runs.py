"""Runs (tasks) and their results."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from assay.domain.runs import RunSnapshot
from assay.domain.statuses import ResultStatus, RunStatus
from assay.errors import ResourceNotFound
from assay.storage.run_tables import ResultRow, RunRow


async def create_run(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    suite_id: uuid.UUID,
    snapshot: RunSnapshot,
    started_by: str | None = None,
) -> RunRow:
    """A queued run; its summary starts with the run's effective concurrency (shown while it runs).

    `started_by` records who started it (an API key's id), None for local runs."""
    summary = {"concurrency": snapshot.concurrency_limits} if snapshot.concurrency_limits else {}
    row = RunRow(
        environment_id=environment_id,
        suite_id=suite_id,
        snapshot=snapshot.to_json(),
        total_cases=snapshot.total_cases,
        summary=summary,
        started_by=started_by,
    )
    session.add(row)
    await session.flush()
    return row


async def get_run(*, session: AsyncSession, environment_id: uuid.UUID, run_id: uuid.UUID) -> RunRow:
    row = await session.get(RunRow, run_id)
    if row is None or row.environment_id != environment_id:
        raise ResourceNotFound("Task not found")
    return row


async def list_runs(*, session: AsyncSession, suite_id: uuid.UUID) -> list[RunRow]:
    query = select(RunRow).where(RunRow.suite_id == suite_id).order_by(RunRow.created_at.desc(), RunRow.id.desc())
    return list(await session.scalars(query))


async def latest_run(*, session: AsyncSession, suite_id: uuid.UUID) -> RunRow | None:
    query = select(RunRow).where(RunRow.suite_id == suite_id).order_by(RunRow.created_at.desc(), RunRow.id.desc())
    return await session.scalar(query.limit(1))


async def request_cancel(*, session: AsyncSession, row: RunRow) -> RunRow:
    """Queued runs are cancelled at once; running ones stop at their next case."""
    await session.execute(
        update(RunRow)
        .where(RunRow.id == row.id, RunRow.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)))
        .values(cancel_requested=True)
    )
    await session.execute(
        update(RunRow).where(RunRow.id == row.id, RunRow.status == RunStatus.QUEUED).values(status=RunStatus.CANCELLED)
    )
    await session.flush()
    await session.refresh(row)
    return row


async def list_results(*, session: AsyncSession, run_id: uuid.UUID) -> list[ResultRow]:
    query = select(ResultRow).where(ResultRow.run_id == run_id).order_by(ResultRow.id)
    return list(await session.scalars(query))


async def get_result(*, session: AsyncSession, suite_id: uuid.UUID, result_id: uuid.UUID) -> ResultRow:
    row = await session.get(ResultRow, result_id)
    if row is None or row.suite_id != suite_id:
        raise ResourceNotFound("Result not found")
    return row


async def run_progress(*, session: AsyncSession, run_id: uuid.UUID) -> tuple[int, int, int]:
    """A run's (completed, errors, total) case counts, read without loading the row."""
    row = (
        await session.execute(
            select(RunRow.completed_cases, RunRow.error_cases, RunRow.total_cases).where(RunRow.id == run_id)
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def get_run_with_snapshot(*, session: AsyncSession, run_id: uuid.UUID) -> tuple[RunRow, RunSnapshot]:
    """A run and its (deferred, so loaded apart) snapshot, even when the session already holds the run without it."""
    row = await session.get(RunRow, run_id, options=[undefer(RunRow.snapshot)], populate_existing=True)
    if row is None:
        raise ResourceNotFound("Task not found")
    return row, RunSnapshot.from_json(row.snapshot)


async def record_override(
    *, session: AsyncSession, row: ResultRow, entry: dict[str, Any], status: ResultStatus, reason: str | None
) -> ResultRow:
    """Append a score override (`entry`, whose `score` becomes the result's); the first keeps the original score."""
    if not row.overrides:
        row.original_score = row.score
    row.overrides = [*(row.overrides or []), entry]
    row.score = entry["score"]
    row.status = status
    if reason is not None:
        row.score_reason = reason
    await session.flush()
    return row


async def set_summary(*, session: AsyncSession, row: RunRow, summary: dict[str, Any]) -> None:
    """Replace a run's summary (the caller commits)."""
    row.summary = summary
    row.summary_version = RunRow.summary_version + 1  # in SQL: two processes never write the same number
    await session.flush()


async def run_state(*, session: AsyncSession, run_id: uuid.UUID) -> tuple[str, int, int, int] | None:
    """A run's (status, completed, errors, total), read without loading the row (None if it is gone)."""
    query = select(RunRow.status, RunRow.completed_cases, RunRow.error_cases, RunRow.total_cases)
    row = (await session.execute(query.where(RunRow.id == run_id))).first()
    return (str(row[0]), int(row[1]), int(row[2]), int(row[3])) if row is not None else None
