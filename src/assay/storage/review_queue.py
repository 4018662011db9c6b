"""The review queue of a run: its order, a result's place in it (neighbours and position, from one ordered pass in SQL), one result with its case, and the progress.

Order: results the machine failed first, then results whose test case's repetitions disagree (some passed,
some failed), then the rest; within each group by test case and repetition. The machine verdict is the
one before any override (`original_score` once overridden), so reviewing never reorders the queue.
A result is reviewed when it has at least one override entry. A `ReviewShare` (`domain/review_shares.py`)
narrows the queue to one reviewer's cases: rank of the test case (dense, in id order) modulo the reviewers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Subquery, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.review_shares import ReviewShare
from assay.domain.runs import DEFAULT_PASS_THRESHOLD
from assay.errors import ResourceNotFound
from assay.storage.run_tables import ResultRow, RunRow
from assay.storage.tables import TestCaseRow

FAILED, DISAGREEING, REST = 0, 1, 2
"""Queue groups, in queue order."""


@dataclass(frozen=True, slots=True)
class ReviewRun:
    """What the queue needs of a run: its suite, pass threshold and repetitions (read from the snapshot in SQL)."""

    id: uuid.UUID
    suite_id: uuid.UUID
    status: str
    pass_threshold: float
    repetitions: int


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One result in the queue, with its test case's input and its queue group."""

    result: ResultRow
    group: int
    input_message: str | None
    expected_behavior: str | None


@dataclass(frozen=True, slots=True)
class ReviewProgress:
    """Results in the run and how many of them have been reviewed."""

    total: int
    reviewed: int


def override_count(session: AsyncSession, overrides: Any) -> ColumnElement[int]:
    """Number of override entries of a result (a JSON array: JSONB on PostgreSQL, JSON text on SQLite)."""
    length = func.jsonb_array_length if session.get_bind().dialect.name == "postgresql" else func.json_array_length
    return func.coalesce(length(overrides), 0)


def _machine_verdict(session: AsyncSession, row: Any, threshold: float) -> ColumnElement[Any]:
    """1 when the machine passed the result, 0 when it failed it, NULL for errors and unscored results."""
    return case(
        (
            override_count(session, row.overrides) > 0,
            case(
                (row.original_score.is_(None), None),
                (row.original_score >= threshold, 1),
                else_=0,
            ),
        ),
        (row.status == "passed", 1),
        (row.status == "failed", 0),
        else_=None,
    )


def _queue_rows(session: AsyncSession, run: ReviewRun, test_case_id: uuid.UUID | None = None) -> Subquery:
    """The run's results as queue rows (id, grp, test_case_id, repetition, overrides, case_rank) in one pass: a
    case's repetitions disagree when the lowest and highest machine verdict over its partition differ;
    `case_rank` is the 0-based dense rank of the test case (meaningful only over the whole run)."""
    verdict = _machine_verdict(session, ResultRow, run.pass_threshold)
    per_case = select(
        ResultRow.id,
        ResultRow.test_case_id,
        ResultRow.repetition,
        verdict.label("verdict"),
        override_count(session, ResultRow.overrides).label("overrides"),
        func.min(verdict).over(partition_by=ResultRow.test_case_id).label("lowest"),
        func.max(verdict).over(partition_by=ResultRow.test_case_id).label("highest"),
        (func.dense_rank().over(order_by=ResultRow.test_case_id) - 1).label("case_rank"),
    ).where(ResultRow.run_id == run.id)
    if test_case_id is not None:
        per_case = per_case.where(ResultRow.test_case_id == test_case_id)
    rows = per_case.subquery()
    group = case(
        (rows.c.verdict == 0, FAILED),
        (rows.c.lowest != rows.c.highest, DISAGREEING),
        else_=REST,
    )
    return select(
        rows.c.id, group.label("grp"), rows.c.test_case_id, rows.c.repetition, rows.c.overrides, rows.c.case_rank
    ).subquery()


def _in_share(rows: Subquery, share: ReviewShare) -> ColumnElement[bool]:
    return rows.c.case_rank % share.count == share.index


async def review_run(*, session: AsyncSession, environment_id: uuid.UUID, run_id: uuid.UUID) -> ReviewRun:
    """The run, or `ResourceNotFound` when it does not exist in this environment."""
    recipe = RunRow.snapshot["recipe"]
    row = (
        await session.execute(
            select(
                RunRow.id,
                RunRow.suite_id,
                RunRow.status,
                recipe["pass_threshold"].as_float(),
                RunRow.snapshot["repetitions"].as_integer(),
            ).where(RunRow.id == run_id, RunRow.environment_id == environment_id)
        )
    ).one_or_none()
    if row is None:
        raise ResourceNotFound(f"Task {run_id} not found")
    run_id_, suite_id, status, threshold, repetitions = row
    return ReviewRun(
        id=run_id_,
        suite_id=suite_id,
        status=status,
        pass_threshold=DEFAULT_PASS_THRESHOLD if threshold is None else float(threshold),
        repetitions=int(repetitions or 1),
    )


@dataclass(frozen=True, slots=True)
class QueueWindow:
    """Where a result stands in the queue: its neighbours, its 1-based position and the queue's size."""

    result_id: uuid.UUID
    previous_id: uuid.UUID | None
    next_id: uuid.UUID | None
    position: int
    size: int


async def queue_window(
    *,
    session: AsyncSession,
    run: ReviewRun,
    result_id: uuid.UUID | None = None,
    skip_reviewed: bool = True,
    share: ReviewShare | None = None,
) -> QueueWindow | None:
    """`result_id`'s place in the queue (default: the queue's first result), in one ordered pass over the run.

    `skip_reviewed` leaves reviewed results out of the queue and `share` the cases of other reviewers, except
    `result_id` itself, which is always found when it belongs to the run. None when the run has no such result
    (or nothing left to review).
    """
    id_type = ResultRow.__table__.c.id.type
    rows = _queue_rows(session, run)
    base = select(rows.c.id, rows.c.grp, rows.c.test_case_id, rows.c.repetition)
    if skip_reviewed:
        unreviewed = rows.c.overrides == 0
        base = base.where(or_(unreviewed, rows.c.id == result_id) if result_id is not None else unreviewed)
    if share is not None:
        mine = _in_share(rows, share)
        base = base.where(or_(mine, rows.c.id == result_id) if result_id is not None else mine)
    queue = base.subquery()
    order = (queue.c.grp, queue.c.test_case_id, queue.c.repetition)
    ranked = select(
        queue.c.id,
        func.row_number().over(order_by=order).label("position"),
        func.lag(queue.c.id, type_=id_type).over(order_by=order).label("previous_id"),
        func.lead(queue.c.id, type_=id_type).over(order_by=order).label("next_id"),
        func.count().over().label("size"),
    ).subquery()
    pick = ranked.c.id == result_id if result_id is not None else ranked.c.position == 1
    found = (
        await session.execute(
            select(ranked.c.id, ranked.c.previous_id, ranked.c.next_id, ranked.c.position, ranked.c.size).where(pick)
        )
    ).one_or_none()
    if found is None:
        return None
    current, previous, following, position, size = found
    return QueueWindow(current, previous, following, int(position), int(size))


async def queue_item(*, session: AsyncSession, run: ReviewRun, result_id: uuid.UUID) -> QueueItem | None:
    """One result of the run with its test case's input and its queue group; None when not in this run."""
    row = await session.get(ResultRow, result_id)
    if row is None or row.run_id != run.id:
        return None
    rows = _queue_rows(session, run, test_case_id=row.test_case_id)
    found = (
        await session.execute(
            select(rows.c.grp, TestCaseRow.input_message, TestCaseRow.expected_behavior)
            .select_from(rows)
            .outerjoin(TestCaseRow, TestCaseRow.id == rows.c.test_case_id)
            .where(rows.c.id == result_id)
        )
    ).one_or_none()
    if found is None:
        return None
    grp, input_message, expected = found
    return QueueItem(result=row, group=int(grp), input_message=input_message, expected_behavior=expected)


async def share_progress(*, session: AsyncSession, run: ReviewRun, share: ReviewShare) -> ReviewProgress:
    """How many results of the run fall in `share` and how many of those have been reviewed."""
    rows = _queue_rows(session, run)
    reviewed = case((rows.c.overrides > 0, 1), else_=0)
    total, done = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(reviewed), 0)).select_from(rows).where(_in_share(rows, share))
        )
    ).one()
    return ReviewProgress(total=int(total), reviewed=int(done))


async def review_progress(*, session: AsyncSession, run_id: uuid.UUID) -> ReviewProgress:
    """How many of the run's results exist and how many have been reviewed."""
    reviewed = case((override_count(session, ResultRow.overrides) > 0, 1), else_=0)
    total, done = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(reviewed), 0)).where(ResultRow.run_id == run_id)
        )
    ).one()
    return ReviewProgress(total=int(total), reviewed=int(done))
