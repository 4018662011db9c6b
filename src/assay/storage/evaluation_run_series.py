"""Evaluation-run outcomes over time: per-evaluation totals for many evaluations, and per-bucket series.

Both are single aggregate queries; buckets are computed in SQL from the run's `created_at` epoch seconds.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.statuses import EvaluationRunStatus
from assay.storage.online_tables import EvaluationRunRow


@dataclass(frozen=True, slots=True)
class OutcomeCounts:
    """Runs that passed, failed, were not applicable, or ended in an error."""

    passed: int = 0
    failed: int = 0
    not_applicable: int = 0
    errors: int = 0

    @property
    def pass_rate(self) -> float | None:
        """passed / (passed + failed), as 0–1; None without any verdict."""
        graded = self.passed + self.failed
        return self.passed / graded if graded else None


@dataclass(frozen=True, slots=True)
class OutcomeBucket:
    """The outcomes of the runs created in [start, start + width)."""

    start: datetime
    counts: OutcomeCounts


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _outcome_columns() -> list[ColumnElement[int]]:
    run = EvaluationRunRow
    completed = run.status == EvaluationRunStatus.COMPLETED
    return [
        _count_if(and_(completed, run.verdict.is_(True))),
        _count_if(and_(completed, run.verdict.is_(False))),
        _count_if(and_(completed, run.verdict.is_(None))),
        _count_if(run.status == EvaluationRunStatus.FAILED),
    ]


def _bucket_index(session: AsyncSession, since: datetime, width_seconds: int) -> ColumnElement[int]:
    """Which bucket of `width_seconds` after `since` a run's `created_at` falls in (0 is the first)."""
    run = EvaluationRunRow
    if session.get_bind().dialect.name == "sqlite":
        seconds = cast(func.strftime("%s", run.created_at), Integer)
        return cast((seconds - int(since.timestamp())) / width_seconds, Integer)
    epoch = func.extract("epoch", run.created_at)
    return cast(func.floor((epoch - int(since.timestamp())) / width_seconds), Integer)


async def outcome_totals(
    *, session: AsyncSession, environment_id: uuid.UUID, evaluator_ids: Sequence[uuid.UUID], since: datetime
) -> dict[uuid.UUID, OutcomeCounts]:
    """Outcome counts of each evaluation's runs created since `since` (evaluations without runs are absent)."""
    if not evaluator_ids:
        return {}
    run = EvaluationRunRow
    rows = await session.execute(
        select(run.evaluator_id, *_outcome_columns())
        .where(run.environment_id == environment_id, run.evaluator_id.in_(list(evaluator_ids)), run.created_at >= since)
        .group_by(run.evaluator_id)
    )
    return {row[0]: OutcomeCounts(*(int(v or 0) for v in row[1:])) for row in rows}


async def outcome_series(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    evaluator_ids: Sequence[uuid.UUID],
    since: datetime,
    width: timedelta,
    buckets: int,
) -> dict[uuid.UUID, list[OutcomeBucket]]:
    """For each evaluation, `buckets` consecutive buckets of `width` from `since` (whole seconds), oldest first.

    Buckets without runs are there too, with zero counts.
    """
    width_seconds = int(width.total_seconds())
    series = {
        evaluator_id: [OutcomeBucket(start=since + i * width, counts=OutcomeCounts()) for i in range(buckets)]
        for evaluator_id in evaluator_ids
    }
    if not evaluator_ids:
        return series
    run = EvaluationRunRow
    index = _bucket_index(session, since, width_seconds).label("bucket")
    rows = await session.execute(
        select(run.evaluator_id, index, *_outcome_columns())
        .where(
            run.environment_id == environment_id,
            run.evaluator_id.in_(list(evaluator_ids)),
            run.created_at >= since,
            run.created_at < since + buckets * width,
        )
        .group_by(run.evaluator_id, literal_column("bucket"))
    )
    for row in rows:
        position = int(row[1])
        if 0 <= position < buckets:
            series[row[0]][position] = OutcomeBucket(
                start=since + position * width, counts=OutcomeCounts(*(int(v or 0) for v in row[2:]))
            )
    return series
