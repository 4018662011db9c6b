"""What the suite page reads: the suite's header, its cases filtered and keyset-paginated, its run history.

Filtering (text search over input and expected behaviour, a tag) happens in SQL on both databases; pages are
fetched with keyset pagination, so a suite with many cases or runs reads only the rows it shows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal_column, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from assay.errors import ValidationFailed
from assay.storage.run_tables import InstanceRow, RecipeRow, RunRow
from assay.storage.suites import get_suite
from assay.storage.tables import ApiKeyRow, SuiteRow, TestCaseRow

MAX_TAG_CHOICES = 500


@dataclass(slots=True)
class SuiteHeader:
    """A suite with the names of its instance and recipe, its case count and its latest run."""

    suite: SuiteRow
    instance_name: str | None
    recipe_name: str | None
    case_count: int
    latest_run_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class CaseCursor:
    """Where a page of cases ends: the last case's (sort_order, id)."""

    sort_order: int
    id: uuid.UUID

    def encode(self) -> str:
        return f"{self.sort_order}_{self.id}"

    @classmethod
    def decode(cls, text: str) -> CaseCursor:
        """Parse `encode`'s text; `ValidationFailed` for anything else."""
        order, _, case_id = text.partition("_")
        try:
            return cls(int(order), uuid.UUID(case_id))
        except ValueError:
            raise ValidationFailed("cursor: not a cursor of this list", attr="cursor") from None


@dataclass(slots=True)
class CasePage:
    """One page of cases; `matching` counts every case the filter keeps; `next_cursor` is None on the last page."""

    cases: list[TestCaseRow]
    matching: int
    next_cursor: CaseCursor | None


@dataclass(slots=True)
class RunPage:
    """One page of runs, newest first; `next_cursor` (the last run's id) is None on the last page."""

    runs: list[RunRow]
    next_cursor: uuid.UUID | None


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def suite_header(*, session: AsyncSession, environment_id: uuid.UUID, suite_id: uuid.UUID) -> SuiteHeader:
    """The suite (`ResourceNotFound` for another environment's) with what the page's header shows."""
    suite = await get_suite(session=session, environment_id=environment_id, suite_id=suite_id)
    instance_name = (
        await session.scalar(
            select(InstanceRow.name).where(
                InstanceRow.id == suite.instance_id, InstanceRow.environment_id == environment_id
            )
        )
        if suite.instance_id
        else None
    )
    recipe_name = (
        await session.scalar(
            select(RecipeRow.name).where(RecipeRow.id == suite.recipe_id, RecipeRow.environment_id == environment_id)
        )
        if suite.recipe_id
        else None
    )
    count = await session.scalar(select(func.count()).where(TestCaseRow.suite_id == suite.id))
    latest = await session.scalar(
        select(RunRow.id)
        .where(RunRow.suite_id == suite.id)
        .order_by(RunRow.created_at.desc(), RunRow.id.desc())
        .limit(1)
    )
    return SuiteHeader(suite, instance_name, recipe_name, int(count or 0), latest)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _has_tag(session: AsyncSession, tag: str) -> ColumnElement[bool]:
    """The case's tags hold the string `tag`."""
    if _dialect(session) == "postgresql":
        return type_coerce(TestCaseRow.tags, JSONB).contains([tag])
    each = func.json_each(TestCaseRow.tags).table_valued("value", "type")
    return exists(select(literal_column("1")).select_from(each).where(each.c.type == "text", each.c.value == tag))


def _filtered_cases(session: AsyncSession, suite_id: uuid.UUID, text: str | None, tag: str | None) -> Select[Any]:
    query = select(TestCaseRow).where(TestCaseRow.suite_id == suite_id)
    if text:
        pattern = _like_pattern(text)
        query = query.where(
            or_(
                TestCaseRow.input_message.ilike(pattern, escape="\\"),
                TestCaseRow.expected_behavior.ilike(pattern, escape="\\"),
            )
        )
    if tag:
        query = query.where(_has_tag(session, tag))
    return query


async def page_test_cases(
    *,
    session: AsyncSession,
    suite_id: uuid.UUID,
    text: str | None = None,
    tag: str | None = None,
    after: CaseCursor | None = None,
    limit: int = 50,
) -> CasePage:
    """Cases in (sort_order, id) order whose input or expected behaviour contains `text` (any case) and whose
    tags hold `tag`, starting after `after`."""
    query = _filtered_cases(session, suite_id, text, tag)
    matching = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if after is not None:
        query = query.where(
            or_(
                TestCaseRow.sort_order > after.sort_order,
                and_(TestCaseRow.sort_order == after.sort_order, TestCaseRow.id > after.id),
            )
        )
    rows = list(await session.scalars(query.order_by(TestCaseRow.sort_order, TestCaseRow.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = CaseCursor(rows[-1].sort_order, rows[-1].id) if more and rows else None
    return CasePage(rows, int(matching or 0), cursor)


async def case_tags(*, session: AsyncSession, suite_id: uuid.UUID) -> list[str]:
    """The distinct string tags of a suite's cases, sorted (at most `MAX_TAG_CHOICES`)."""
    if _dialect(session) == "postgresql":
        elements = func.jsonb_array_elements(type_coerce(TestCaseRow.tags, JSONB)).table_valued("value").alias("e")
        value = elements.c.value.op("#>>")(literal_column("'{}'"))
        query = (
            select(value.label("tag"))
            .select_from(TestCaseRow)
            .join(elements, literal_column("true"))
            .where(TestCaseRow.suite_id == suite_id, func.jsonb_typeof(elements.c.value) == "string")
        )
    else:
        each = func.json_each(TestCaseRow.tags).table_valued("value", "type").alias("e")
        query = (
            select(each.c.value.label("tag"))
            .select_from(TestCaseRow)
            .join(each, literal_column("1") == literal_column("1"))
            .where(TestCaseRow.suite_id == suite_id, each.c.type == "text")
        )
    distinct = query.distinct().subquery()
    found = await session.scalars(select(distinct.c.tag).order_by(distinct.c.tag).limit(MAX_TAG_CHOICES))
    return [str(tag) for tag in found]


async def page_runs(
    *, session: AsyncSession, suite_id: uuid.UUID, before: uuid.UUID | None = None, limit: int = 25
) -> RunPage:
    """A suite's runs, newest first, starting after the run `before` (a run of this suite)."""
    query = select(RunRow).where(RunRow.suite_id == suite_id)
    if before is not None:
        anchor = (
            await session.execute(
                select(RunRow.created_at, RunRow.id).where(RunRow.id == before, RunRow.suite_id == suite_id)
            )
        ).first()
        if anchor is None:
            raise ValidationFailed("runs_cursor: not a run of this suite", attr="runs_cursor")
        query = query.where(
            or_(RunRow.created_at < anchor[0], and_(RunRow.created_at == anchor[0], RunRow.id < anchor[1]))
        )
    rows = list(await session.scalars(query.order_by(RunRow.created_at.desc(), RunRow.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return RunPage(rows, rows[-1].id if more and rows else None)


async def key_labels(*, session: AsyncSession, environment_id: uuid.UUID, key_ids: list[uuid.UUID]) -> dict[str, str]:
    """How to name the environment's API keys among `key_ids` (by id text): the key's name, else its prefix."""
    if not key_ids:
        return {}
    rows = await session.execute(
        select(ApiKeyRow.id, ApiKeyRow.name, ApiKeyRow.prefix).where(
            ApiKeyRow.environment_id == environment_id, ApiKeyRow.id.in_(key_ids)
        )
    )
    return {str(key_id): name or f"{prefix}…" for key_id, name, prefix in rows}
