"""Scorers and their immutable versions."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.errors import ResourceNotFound
from assay.storage.experiment_tables import ScorerRow, ScorerVersionRow
from assay.storage.paging import fetch_page

SCORER_ORDERINGS = {
    f"{sign}{name}" for sign in ("", "-") for name in ("name", "kind", "created_at", "updated_at", "current_version")
}


async def create_scorer(
    *, session: AsyncSession, environment_id: uuid.UUID, created_by_id: uuid.UUID | None, fields: dict[str, Any]
) -> tuple[ScorerRow, ScorerVersionRow]:
    """A scorer (`fields`: name, description, kind, tags, config) and its version 1; flushes."""
    config = fields.pop("config")
    row = ScorerRow(environment_id=environment_id, created_by_id=created_by_id, current_version=1, **fields)
    session.add(row)
    await session.flush()
    version = ScorerVersionRow(
        environment_id=environment_id,
        scorer_id=row.id,
        version=1,
        kind=row.kind,
        config=config,
        created_by_id=created_by_id,
    )
    session.add(version)
    await session.flush()
    return row, version


async def get_scorer(*, session: AsyncSession, environment_id: uuid.UUID, scorer_id: uuid.UUID) -> ScorerRow:
    row = await session.get(ScorerRow, scorer_id)
    if row is None or row.environment_id != environment_id:
        raise ResourceNotFound("Not found.")
    return row


async def current_versions(*, session: AsyncSession, scorers: list[ScorerRow]) -> dict[uuid.UUID, ScorerVersionRow]:
    """Each scorer's current version, in one query."""
    if not scorers:
        return {}
    rows = await session.scalars(
        select(ScorerVersionRow).where(
            or_(
                *(
                    and_(ScorerVersionRow.scorer_id == s.id, ScorerVersionRow.version == s.current_version)
                    for s in scorers
                )
            )
        )
    )
    return {v.scorer_id: v for v in rows.unique()}


async def list_scorers(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    limit: int,
    offset: int,
    search: str | None = None,
    kind: str | None = None,
    archived: bool | None = None,
    order_by: str | None = None,
    tags: list[str] | None = None,
    all_tags: bool = False,
) -> tuple[int, list[ScorerRow]]:
    """One page of the environment's scorers (active ones unless `archived` says otherwise)."""
    query = select(ScorerRow).where(ScorerRow.environment_id == environment_id)
    query = query.where(ScorerRow.archived.is_(bool(archived)))
    if search:
        query = query.where(
            or_(
                ScorerRow.name.icontains(search, autoescape=True),
                ScorerRow.description.icontains(search, autoescape=True),
            )
        )
    if kind:
        query = query.where(ScorerRow.kind == kind)
    if tags:
        matches = [cast(ScorerRow.tags, String).contains(orjson.dumps(t).decode(), autoescape=True) for t in tags]
        query = query.where(and_(*matches) if all_tags else or_(*matches))
    orders = []
    if order_by:
        column = getattr(ScorerRow, order_by.lstrip("-"))
        orders.append(column.desc() if order_by.startswith("-") else column.asc())
    return await fetch_page(
        session, query.order_by(*orders, ScorerRow.created_at.desc(), ScorerRow.id), limit=limit, offset=offset
    )


async def add_version(
    *, session: AsyncSession, scorer: ScorerRow, config: dict[str, Any], created_by_id: uuid.UUID | None
) -> ScorerVersionRow:
    """A new current version of a scorer; flushes."""
    number = (
        int(
            await session.scalar(
                select(func.max(ScorerVersionRow.version)).where(ScorerVersionRow.scorer_id == scorer.id)
            )
            or 0
        )
        + 1
    )
    version = ScorerVersionRow(
        environment_id=scorer.environment_id,
        scorer_id=scorer.id,
        version=number,
        kind=scorer.kind,
        config=config,
        created_by_id=created_by_id,
    )
    session.add(version)
    scorer.current_version = number
    await session.flush()
    await session.refresh(scorer)
    return version


async def get_version(*, session: AsyncSession, scorer_id: uuid.UUID, version_id: uuid.UUID) -> ScorerVersionRow:
    row = await session.get(ScorerVersionRow, version_id)
    if row is None or row.scorer_id != scorer_id:
        raise ResourceNotFound("Not found.")
    return row


async def list_versions(
    *, session: AsyncSession, scorer_id: uuid.UUID, limit: int, offset: int
) -> tuple[int, list[ScorerVersionRow]]:
    """A scorer's versions, newest first."""
    query = select(ScorerVersionRow).where(ScorerVersionRow.scorer_id == scorer_id)
    return await fetch_page(session, query.order_by(ScorerVersionRow.version.desc()), limit=limit, offset=offset)


async def versions_with_scorers(
    *, session: AsyncSession, environment_id: uuid.UUID, version_ids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[ScorerVersionRow, ScorerRow]]:
    """The environment's scorer versions with these ids, each with its scorer."""
    if not version_ids:
        return {}
    rows = await session.execute(
        select(ScorerVersionRow, ScorerRow)
        .join(ScorerRow, ScorerRow.id == ScorerVersionRow.scorer_id)
        .where(ScorerVersionRow.id.in_(version_ids), ScorerVersionRow.environment_id == environment_id)
    )
    return {v.id: (v, s) for v, s in rows.unique().all()}
