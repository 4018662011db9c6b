"""The suites page in a fixed number of queries: each suite with its names, case count and recent runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.storage.run_tables import InstanceRow, RecipeRow, RunRow
from assay.storage.tables import SuiteRow, TestCaseRow

RECENT_RUNS = 20


@dataclass(slots=True)
class RecentRun:
    """One of a suite's latest runs, as the overview shows it."""

    id: uuid.UUID
    status: str
    created_at: datetime
    summary: dict[str, Any]


@dataclass(slots=True)
class SuiteOverview:
    """A suite with what the suites page lists about it; `runs` are newest first."""

    suite: SuiteRow
    instance_name: str | None
    recipe_name: str | None
    case_count: int
    runs: list[RecentRun] = field(default_factory=list)


async def suite_overviews(*, session: AsyncSession, environment_id: uuid.UUID) -> list[SuiteOverview]:
    """Every suite of the environment, newest first, with up to `RECENT_RUNS` runs each."""
    suites = list(
        await session.scalars(
            select(SuiteRow)
            .where(SuiteRow.environment_id == environment_id)
            .order_by(SuiteRow.created_at.desc(), SuiteRow.id.desc())
        )
    )
    if not suites:
        return []
    counts = dict(
        (
            await session.execute(
                select(TestCaseRow.suite_id, func.count())
                .where(TestCaseRow.environment_id == environment_id)
                .group_by(TestCaseRow.suite_id)
            )
        ).all()
    )
    instances = dict(
        (
            await session.execute(
                select(InstanceRow.id, InstanceRow.name).where(InstanceRow.environment_id == environment_id)
            )
        ).all()
    )
    recipes = dict(
        (
            await session.execute(
                select(RecipeRow.id, RecipeRow.name).where(RecipeRow.environment_id == environment_id)
            )
        ).all()
    )
    position = (
        func.row_number()
        .over(partition_by=RunRow.suite_id, order_by=(RunRow.created_at.desc(), RunRow.id.desc()))
        .label("position")
    )
    ranked = (
        select(RunRow.id, RunRow.suite_id, RunRow.status, RunRow.created_at, RunRow.summary, position)
        .where(RunRow.environment_id == environment_id)
        .subquery()
    )
    recent: dict[uuid.UUID, list[RecentRun]] = {}
    rows = await session.execute(
        select(ranked.c.id, ranked.c.suite_id, ranked.c.status, ranked.c.created_at, ranked.c.summary)
        .where(ranked.c.position <= RECENT_RUNS)
        .order_by(ranked.c.suite_id, ranked.c.position)
    )
    for run_id, suite_id, status, created_at, summary in rows:
        recent.setdefault(suite_id, []).append(RecentRun(run_id, status, created_at, summary or {}))
    return [
        SuiteOverview(
            suite=s,
            instance_name=instances.get(s.instance_id) if s.instance_id else None,
            recipe_name=recipes.get(s.recipe_id) if s.recipe_id else None,
            case_count=int(counts.get(s.id, 0)),
            runs=recent.get(s.id, []),
        )
        for s in suites
    ]
