"""Reading evaluation runs: a keyset-paginated listing with filters, and per-evaluation counts over a window."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.statuses import PENDING_EVALUATION_RUN_STATUSES, EvaluationRunStatus
from assay.storage.online_tables import EvaluationRunRow

RUN_STATUSES = tuple(EvaluationRunStatus)
"""Every state of a run; `finishing` lasts only inside the transaction that records an outcome."""

PENDING_STATUSES = PENDING_EVALUATION_RUN_STATUSES

RunKey = tuple[datetime, str]
"""Where a page ends: `(created_at, workflow_id)` of its last run."""


async def list_runs(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    limit: int,
    after: RunKey | None = None,
    evaluator_id: uuid.UUID | None = None,
    statuses: Sequence[str] | None = None,
    source: str | None = None,
    failures_only: bool = False,
    since: datetime | None = None,
) -> tuple[list[EvaluationRunRow], bool]:
    """Up to `limit` runs newest first, strictly after the key `after`; True when more follow.

    `failures_only` keeps completed runs with verdict false and runs that failed (errors); `since` keeps runs
    created at or after it.

    Keyset pagination on `(created_at, workflow_id)`: every page costs the same however deep it is, and runs
    created meanwhile never shift a page.
    """
    run = EvaluationRunRow
    query = select(run).where(run.environment_id == environment_id)
    if evaluator_id is not None:
        query = query.where(run.evaluator_id == evaluator_id)
    if statuses:
        query = query.where(run.status.in_(list(statuses)))
    if source is not None:
        query = query.where(run.source == source)
    if failures_only:
        query = query.where(
            or_(
                and_(run.status == EvaluationRunStatus.COMPLETED, run.verdict.is_(False)),
                run.status == EvaluationRunStatus.FAILED,
            )
        )
    if since is not None:
        query = query.where(run.created_at >= since)
    if after is not None:
        created, workflow = after
        query = query.where(or_(run.created_at < created, and_(run.created_at == created, run.workflow_id < workflow)))
    rows = list(await session.scalars(query.order_by(run.created_at.desc(), run.workflow_id.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


@dataclass(frozen=True, slots=True)
class RunCounts:
    """How the runs of one evaluation created in a window ended."""

    total: int
    passed: int
    failed: int
    not_applicable: int
    errors: int
    skipped: int
    pending: int
    retried: int


async def run_counts(
    *, session: AsyncSession, environment_id: uuid.UUID, evaluator_id: uuid.UUID, since: datetime
) -> RunCounts:
    """Counts of the evaluation's runs created since `since`, in one aggregate query."""
    run = EvaluationRunRow
    completed = run.status == EvaluationRunStatus.COMPLETED

    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = (
        await session.execute(
            select(
                func.count(),
                count_if(and_(completed, run.verdict.is_(True))),
                count_if(and_(completed, run.verdict.is_(False))),
                count_if(and_(completed, run.verdict.is_(None))),
                count_if(run.status == EvaluationRunStatus.FAILED),
                count_if(run.status == EvaluationRunStatus.SKIPPED),
                count_if(run.status.in_(PENDING_STATUSES)),
                count_if(run.attempts > 1),
            ).where(run.environment_id == environment_id, run.evaluator_id == evaluator_id, run.created_at >= since)
        )
    ).one()
    return RunCounts(*(int(v or 0) for v in row))
