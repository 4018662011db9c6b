"""The review queue of a run: its order, one result at a time with keyset neighbours, and its progress.

Order: results the machine failed first, then results whose test case's repetitions disagree (some passed,
some failed), then the rest; within each group by test case and repetition. The machine verdict is the
one before any override (`original_score` once overridden), so reviewing never reorders the queue.
A result is reviewed when it has at least one override entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from assay.errors import ResourceNotFound
from assay.storage.run_tables import ResultRow, RunRow
from assay.storage.tables import TestCaseRow

FAILED, DISAGREEING, REST = 0, 1, 2
"""Queue groups, in queue order."""

DEFAULT_PASS_THRESHOLD = 70.0
"""What a snapshot without a threshold scores against (the engine's default)."""


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

    @property
    def key(self) -> tuple[int, uuid.UUID, int]:
        return (self.group, self.result.test_case_id, self.result.repetition)


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


def _group(session: AsyncSession, run: ReviewRun) -> ColumnElement[int]:
    inner = aliased(ResultRow)
    inner_verdict = _machine_verdict(session, inner, run.pass_threshold)
    disagreeing = (
        select(inner.test_case_id)
        .where(inner.run_id == run.id)
        .group_by(inner.test_case_id)
        .having(func.min(inner_verdict) != func.max(inner_verdict))
    )
    return case(
        (_machine_verdict(session, ResultRow, run.pass_threshold) == 0, FAILED),
        (ResultRow.test_case_id.in_(disagreeing), DISAGREEING),
        else_=REST,
    )


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


def _after(group: ColumnElement[int], key: tuple[int, uuid.UUID, int]) -> ColumnElement[bool]:
    g, case_id, rep = key
    return or_(
        group > g,
        and_(
            group == g,
            or_(ResultRow.test_case_id > case_id, and_(ResultRow.test_case_id == case_id, ResultRow.repetition > rep)),
        ),
    )


def _before(group: ColumnElement[int], key: tuple[int, uuid.UUID, int]) -> ColumnElement[bool]:
    g, case_id, rep = key
    return or_(
        group < g,
        and_(
            group == g,
            or_(ResultRow.test_case_id < case_id, and_(ResultRow.test_case_id == case_id, ResultRow.repetition < rep)),
        ),
    )


async def queue_item(
    *,
    session: AsyncSession,
    run: ReviewRun,
    result_id: uuid.UUID | None = None,
    after: tuple[int, uuid.UUID, int] | None = None,
    before: tuple[int, uuid.UUID, int] | None = None,
    skip_reviewed: bool = True,
) -> QueueItem | None:
    """A result of the queue: `result_id` itself (reviewed or not), else the first after/before a key, else the first.

    `skip_reviewed` leaves reviewed results out of the search (a result asked for by id is always found).
    """
    group = _group(session, run).label("grp")
    query = (
        select(ResultRow, group, TestCaseRow.input_message, TestCaseRow.expected_behavior)
        .outerjoin(TestCaseRow, TestCaseRow.id == ResultRow.test_case_id)
        .where(ResultRow.run_id == run.id)
    )
    order = (group, ResultRow.test_case_id, ResultRow.repetition)
    if result_id is not None:
        query = query.where(ResultRow.id == result_id)
    else:
        if skip_reviewed:
            query = query.where(override_count(session, ResultRow.overrides) == 0)
        if after is not None:
            query = query.where(_after(_group(session, run), after)).order_by(*order)
        elif before is not None:
            query = query.where(_before(_group(session, run), before)).order_by(*(c.desc() for c in order))
        else:
            query = query.order_by(*order)
    found = (await session.execute(query.limit(1))).one_or_none()
    if found is None:
        return None
    row, grp, input_message, expected = found
    return QueueItem(result=row, group=int(grp), input_message=input_message, expected_behavior=expected)


async def queue_position(
    *, session: AsyncSession, run: ReviewRun, key: tuple[int, uuid.UUID, int], skip_reviewed: bool = True
) -> tuple[int, int]:
    """(results of the queue before `key`, results in the queue), with the same filter as `queue_item`."""
    group = _group(session, run)
    base = select(func.count()).select_from(ResultRow).where(ResultRow.run_id == run.id)
    if skip_reviewed:
        base = base.where(override_count(session, ResultRow.overrides) == 0)
    before = await session.scalar(base.where(_before(group, key)))
    size = await session.scalar(base)
    return int(before or 0), int(size or 0)


async def review_progress(*, session: AsyncSession, run_id: uuid.UUID) -> ReviewProgress:
    """How many of the run's results exist and how many have been reviewed."""
    reviewed = case((override_count(session, ResultRow.overrides) > 0, 1), else_=0)
    total, done = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(reviewed), 0)).where(ResultRow.run_id == run_id)
        )
    ).one()
    return ReviewProgress(total=int(total), reviewed=int(done))
