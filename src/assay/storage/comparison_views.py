"""What the comparison page reads beside the comparison itself: the suite's runs to pick from, the inputs of
the cases on one page of the list, and one case's results in the two runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.storage.run_tables import ResultRow, RunRow
from assay.storage.tables import TestCaseRow

RUN_CHOICES = 200


@dataclass(frozen=True, slots=True)
class RunChoice:
    """A run of the suite as the run pickers list it."""

    id: uuid.UUID
    status: str
    created_at: datetime
    summary: dict[str, Any]


async def run_choices(*, session: AsyncSession, suite_id: uuid.UUID, limit: int = RUN_CHOICES) -> list[RunChoice]:
    """The suite's latest runs, newest first."""
    query = (
        select(RunRow.id, RunRow.status, RunRow.created_at, RunRow.summary)
        .where(RunRow.suite_id == suite_id)
        .order_by(RunRow.created_at.desc(), RunRow.id.desc())
        .limit(limit)
    )
    return [RunChoice(i, s, c, summary or {}) for i, s, c, summary in (await session.execute(query)).all()]


async def case_inputs(*, session: AsyncSession, suite_id: uuid.UUID, case_ids: list[str]) -> dict[str, str]:
    """Input message per test case id, for the cases still in the suite."""
    if not case_ids:
        return {}
    ids = [uuid.UUID(c) for c in case_ids]
    query = select(TestCaseRow.id, TestCaseRow.input_message).where(
        TestCaseRow.suite_id == suite_id, TestCaseRow.id.in_(ids)
    )
    return {str(i): message for i, message in (await session.execute(query)).all()}


async def get_case(*, session: AsyncSession, suite_id: uuid.UUID, case_id: uuid.UUID) -> TestCaseRow | None:
    """A test case of the suite, or None when it is gone (its results stay)."""
    row = await session.get(TestCaseRow, case_id)
    return row if row is not None and row.suite_id == suite_id else None


async def case_results(*, session: AsyncSession, run_id: uuid.UUID, case_id: uuid.UUID) -> list[ResultRow]:
    """A case's results in one run, by repetition."""
    query = (
        select(ResultRow)
        .where(ResultRow.run_id == run_id, ResultRow.test_case_id == case_id)
        .order_by(ResultRow.repetition)
    )
    return list(await session.scalars(query))
