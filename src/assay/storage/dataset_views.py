"""Datasets and their items as the web pages read them: sorted, searched and paginated in SQL."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.storage.paging import fetch_page
from assay.storage.tables import DatasetItemRow, DatasetRow

DATASET_PAGE_SORTS: dict[str, tuple[Any, ...]] = {
    "name": (DatasetRow.name.asc(),),
    "-name": (DatasetRow.name.desc(),),
    "created": (DatasetRow.created_at.asc(),),
    "-created": (DatasetRow.created_at.desc(),),
    "updated": (DatasetRow.updated_at.asc(),),
    "-updated": (DatasetRow.updated_at.desc(),),
}


async def dataset_page(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    name_search: str | None,
    sort: str,
    deleted: bool,
    limit: int,
    offset: int,
) -> tuple[int, list[DatasetRow]]:
    """The count and one page of the environment's datasets (soft-deleted ones only when `deleted`)."""
    query = select(DatasetRow).where(DatasetRow.environment_id == environment_id)
    query = query.where(DatasetRow.deleted.is_(True) if deleted else DatasetRow.deleted.isnot(True))
    if name_search:
        query = query.where(DatasetRow.name.icontains(name_search, autoescape=True))
    orders = DATASET_PAGE_SORTS.get(sort, DATASET_PAGE_SORTS["-created"])
    query = query.order_by(*orders, DatasetRow.id)
    return await fetch_page(session, query, limit=limit, offset=offset)


async def item_page(
    *,
    session: AsyncSession,
    dataset_id: uuid.UUID,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> tuple[list[DatasetItemRow], bool]:
    """Up to `limit` non-deleted items of a dataset, oldest first, after the keyset `after`; and whether more follow."""
    query = select(DatasetItemRow).where(DatasetItemRow.dataset_id == dataset_id, DatasetItemRow.deleted.isnot(True))
    if after is not None:
        created_at, item_id = after
        query = query.where(
            or_(
                DatasetItemRow.created_at > created_at,
                and_(DatasetItemRow.created_at == created_at, DatasetItemRow.id > item_id),
            )
        )
    query = query.order_by(DatasetItemRow.created_at, DatasetItemRow.id).limit(limit + 1)
    rows = list((await session.scalars(query)).unique())
    return rows[:limit], len(rows) > limit
