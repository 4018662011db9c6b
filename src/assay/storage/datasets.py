"""Datasets and dataset items (soft-deleted, never removed through the API)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.errors import ResourceNotFound
from assay.storage.dataset_revisions import record_item_change
from assay.storage.paging import fetch_page
from assay.storage.tables import DatasetItemRow, DatasetRow

DATASET_ORDERINGS = {"created_at", "-created_at", "updated_at", "-updated_at"}


def _order_clause(table: Any, field: str) -> Any:
    column = getattr(table, field.lstrip("-"))
    return column.desc() if field.startswith("-") else column.asc()


async def list_datasets(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    limit: int,
    offset: int,
    search: str | None = None,
    ids: list[uuid.UUID] | None = None,
    order_by: list[str] | None = None,
    archived: bool = False,
    tags: list[str] | None = None,
    all_tags: bool = False,
) -> tuple[int, list[DatasetRow]]:
    """One page of the environment's datasets: active ones, or only archived (soft-deleted) ones; `tags` keeps
    those with any (or, with `all_tags`, every) one of these tags."""
    state = DatasetRow.deleted.is_(True) if archived else DatasetRow.deleted.isnot(True)
    query = select(DatasetRow).where(DatasetRow.environment_id == environment_id, state)
    if tags:
        matches = [cast(DatasetRow.tags, String).contains(orjson.dumps(tag).decode(), autoescape=True) for tag in tags]
        query = query.where(and_(*matches) if all_tags else or_(*matches))
    if search:
        query = query.where(
            or_(
                DatasetRow.name.icontains(search, autoescape=True),
                DatasetRow.description.icontains(search, autoescape=True),
                cast(DatasetRow.metadata_, String).icontains(search, autoescape=True),
            )
        )
    if ids is not None:
        query = query.where(DatasetRow.id.in_(ids))
    orders = [_order_clause(DatasetRow, f) for f in order_by or []]
    query = query.order_by(*orders, DatasetRow.created_at.desc(), DatasetRow.id)
    return await fetch_page(session, query, limit=limit, offset=offset)


async def get_dataset(
    *, session: AsyncSession, environment_id: uuid.UUID, dataset_id: uuid.UUID, include_deleted: bool = False
) -> DatasetRow:
    row = await session.get(DatasetRow, dataset_id)
    if row is None or row.environment_id != environment_id or (row.deleted and not include_deleted):
        raise ResourceNotFound("Not found.")
    return row


async def dataset_exists(*, session: AsyncSession, environment_id: uuid.UUID, dataset_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(DatasetRow.id).where(DatasetRow.id == dataset_id, DatasetRow.environment_id == environment_id)
    )
    return found is not None


async def create_dataset(
    *, session: AsyncSession, environment_id: uuid.UUID, created_by_id: uuid.UUID | None, fields: dict[str, Any]
) -> DatasetRow:
    row = DatasetRow(environment_id=environment_id, created_by_id=created_by_id, **fields)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def update_row(*, session: AsyncSession, row: Any, fields: dict[str, Any]) -> Any:
    """Apply `fields` to a row and flush; `updated_at` moves forward."""
    for name, value in fields.items():
        setattr(row, name, value)
    await session.flush()
    await session.refresh(row)
    return row


async def list_dataset_items(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    limit: int,
    offset: int,
    dataset_id: uuid.UUID | None = None,
) -> tuple[int, list[DatasetItemRow]]:
    query = select(DatasetItemRow).where(
        DatasetItemRow.environment_id == environment_id, DatasetItemRow.deleted.isnot(True)
    )
    if dataset_id is not None:
        query = query.where(DatasetItemRow.dataset_id == dataset_id)
    query = query.order_by(DatasetItemRow.created_at.desc(), DatasetItemRow.id)
    return await fetch_page(session, query, limit=limit, offset=offset)


async def get_dataset_item(
    *, session: AsyncSession, environment_id: uuid.UUID, item_id: uuid.UUID, include_deleted: bool = False
) -> DatasetItemRow:
    row = await session.get(DatasetItemRow, item_id)
    if row is None or row.environment_id != environment_id or (row.deleted and not include_deleted):
        raise ResourceNotFound("Not found.")
    return row


async def create_dataset_item(
    *, session: AsyncSession, environment_id: uuid.UUID, created_by_id: uuid.UUID | None, fields: dict[str, Any]
) -> DatasetItemRow:
    row = DatasetItemRow(environment_id=environment_id, created_by_id=created_by_id, **fields)
    session.add(row)
    await session.flush()
    await record_item_change(session=session, item=row, created_by_id=created_by_id)
    await session.refresh(row)
    return row


async def update_dataset_item(
    *, session: AsyncSession, row: DatasetItemRow, fields: dict[str, Any], changed_by_id: uuid.UUID | None = None
) -> DatasetItemRow:
    """Apply `fields` to an item and flush; a change of what a version holds makes a new revision."""
    for name, value in fields.items():
        setattr(row, name, value)
    await session.flush()
    await record_item_change(session=session, item=row, created_by_id=changed_by_id)
    await session.refresh(row)
    return row


async def find_dataset(*, session: AsyncSession, environment_id: uuid.UUID, id_or_name: str) -> DatasetRow | None:
    """The environment's non-deleted dataset with this name (or, when `id_or_name` is a uuid, this id), or None."""
    condition = DatasetRow.name == id_or_name
    try:
        condition = or_(condition, DatasetRow.id == uuid.UUID(id_or_name))
    except ValueError:
        pass
    return await session.scalar(
        select(DatasetRow).where(DatasetRow.environment_id == environment_id, DatasetRow.deleted.isnot(True), condition)
    )


async def all_dataset_items(*, session: AsyncSession, dataset_id: uuid.UUID) -> list[DatasetItemRow]:
    """Every non-deleted item of a dataset, oldest first."""
    items = await session.scalars(
        select(DatasetItemRow)
        .where(DatasetItemRow.dataset_id == dataset_id, DatasetItemRow.deleted.isnot(True))
        .order_by(DatasetItemRow.created_at, DatasetItemRow.id)
    )
    return list(items)


async def dataset_name_taken(
    *, session: AsyncSession, environment_id: uuid.UUID, name: str, other_than: uuid.UUID | None = None
) -> bool:
    """Whether another dataset of the environment (archived ones too) has this name."""
    query = select(DatasetRow.id).where(DatasetRow.environment_id == environment_id, DatasetRow.name == name)
    if other_than is not None:
        query = query.where(DatasetRow.id != other_than)
    return (await session.scalar(query.limit(1))) is not None


async def item_by_client_id(
    *, session: AsyncSession, dataset_id: uuid.UUID, client_item_id: str
) -> DatasetItemRow | None:
    """The dataset's item with this caller-given key, or None."""
    return await session.scalar(
        select(DatasetItemRow).where(
            DatasetItemRow.dataset_id == dataset_id, DatasetItemRow.client_item_id == client_item_id
        )
    )


async def dataset_items_by_id(*, session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, DatasetItemRow]:
    """Items by id (deleted ones too)."""
    if not ids:
        return {}
    rows = await session.scalars(select(DatasetItemRow).where(DatasetItemRow.id.in_(ids)))
    return {r.id: r for r in rows.unique()}
