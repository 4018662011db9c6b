"""What the engine reads and writes while it executes a run: claims, the lease, resuming, the end."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from assay.domain.runs import RunSnapshot
from assay.domain.statuses import RunStatus
from assay.storage.leases import claim_statement, claimable
from assay.storage.run_tables import ResultRow, RunRow
from assay.storage.runs import latest_run
from assay.storage.tables import SuiteRow
from assay.storage.types import utcnow


async def claimable_run_ids(*, session: AsyncSession, limit: int) -> list[uuid.UUID]:
    """Up to `limit` runs to claim, oldest first: queued, or running with a lapsed lease."""
    rows = await session.scalars(
        select(RunRow.id).where(claimable(RunRow, utcnow())).order_by(RunRow.created_at).limit(limit)
    )
    return list(rows)


async def claim_run(*, session: AsyncSession, run_id: uuid.UUID, worker_id: str, lease: timedelta) -> bool:
    """Take the run if it is queued or its lease lapsed (one conditional UPDATE); the caller commits."""
    now = utcnow()
    claim = claim_statement(
        RunRow, which=RunRow.id == run_id, condition=claimable(RunRow, now), worker_id=worker_id, now=now, lease=lease
    )
    result = cast(CursorResult[Any], await session.execute(claim))
    return bool(result.rowcount)


async def extend_lease(*, session: AsyncSession, run_id: uuid.UUID, lease: timedelta) -> None:
    """Move the run's lease to `lease` from now; the caller commits."""
    await session.execute(update(RunRow).where(RunRow.id == run_id).values(lease_until=utcnow() + lease))


@dataclass(frozen=True, slots=True)
class StartedRun:
    """A run as its execution starts: which run, its snapshot, and whether it was asked to stop."""

    id: uuid.UUID
    suite_id: uuid.UUID
    environment_id: uuid.UUID
    snapshot: RunSnapshot
    cancel_requested: bool


async def start_execution(*, session: AsyncSession, run_id: uuid.UUID) -> StartedRun | None:
    """The run and its snapshot, `started_at` set on its first execution; the caller commits."""
    row = await session.get(RunRow, run_id, options=[undefer(RunRow.snapshot)])
    if row is None:
        return None
    if row.started_at is None:
        row.started_at = utcnow()
    return StartedRun(
        id=row.id,
        suite_id=row.suite_id,
        environment_id=row.environment_id,
        snapshot=RunSnapshot.from_json(row.snapshot),
        cancel_requested=row.cancel_requested,
    )


async def stored_result_keys(*, session: AsyncSession, run_id: uuid.UUID) -> set[tuple[str, int]]:
    """The (test case id, repetition) pairs that already have a result: what a resumed run skips."""
    query = select(ResultRow.test_case_id, ResultRow.repetition).where(ResultRow.run_id == run_id)
    return {(str(case_id), repetition) for case_id, repetition in (await session.execute(query)).all()}


async def is_cancel_requested(*, session: AsyncSession, run_id: uuid.UUID) -> bool:
    """Whether someone asked the run to stop."""
    return bool(await session.scalar(select(RunRow.cancel_requested).where(RunRow.id == run_id)))


async def get_run_by_id(*, session: AsyncSession, run_id: uuid.UUID) -> RunRow | None:
    """The run, whatever its environment (for the engine, which holds the run's id from a claim)."""
    return await session.get(RunRow, run_id)


async def record_finish(
    *,
    session: AsyncSession,
    row: RunRow,
    status: RunStatus,
    finished_at: datetime,
    summary: dict[str, Any],
    error: str | None = None,
) -> None:
    """The run's final status, summary and authoritative counters; its lease is released. Flushes."""
    row.status = status
    row.finished_at = finished_at
    row.error = error
    row.summary = summary
    row.summary_version = RunRow.summary_version + 1  # in SQL: two processes never write the same number
    row.completed_cases = summary["completed"]
    row.error_cases = summary["error"]
    row.lease_until = None
    await session.flush()


async def refresh_suite(*, session: AsyncSession, suite_id: uuid.UUID) -> None:
    """Set the suite's `status` and `results_summary` from its latest run."""
    latest = await latest_run(session=session, suite_id=suite_id)
    if latest is None:
        return
    summary = {**(latest.summary or {}), "task_id": str(latest.id)}
    await session.execute(
        update(SuiteRow).where(SuiteRow.id == suite_id).values(status=latest.status, results_summary=summary)
    )
