"""Dataset revisions and item versions: writing a version on every item change, reading a dataset as it was.

An item write (`record_item_change`) closes the item's open version and opens a new one under a new revision of
its dataset, unless nothing readable changed. A dataset at revision N is the versions with
`valid_from <= N < valid_to` (or `valid_to` empty): no item is copied.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from assay.errors import ResourceNotFound
from assay.storage.dataset_revision_tables import DatasetItemVersionRow, DatasetRevisionRow
from assay.storage.paging import fetch_page
from assay.storage.tables import DatasetItemRow, DatasetRow

CONTENT_FIELDS = ("input", "output", "source_output", "metadata_", "ref_trace_id", "ref_timestamp", "ref_source_id")
"""The item fields a version holds."""


@dataclass(frozen=True, slots=True)
class Revision:
    """A dataset revision: its number and id."""

    number: int
    id: uuid.UUID


async def _next_revision(session: AsyncSession, dataset_id: uuid.UUID, created_by_id: uuid.UUID | None) -> int:
    """Add a revision to a dataset (one atomic UPDATE, so concurrent writers get distinct numbers)."""
    number = await session.scalar(
        update(DatasetRow)
        .where(DatasetRow.id == dataset_id)
        .values(current_revision=func.coalesce(DatasetRow.current_revision, 0) + 1)
        .returning(DatasetRow.current_revision)
        .execution_options(synchronize_session=False)
    )
    if number is None:
        raise ResourceNotFound("Not found.")
    loaded = session.identity_map.get(identity_key(DatasetRow, dataset_id))
    if loaded is not None:
        set_committed_value(loaded, "current_revision", number)
    environment_id = await session.scalar(select(DatasetRow.environment_id).where(DatasetRow.id == dataset_id))
    session.add(
        DatasetRevisionRow(
            environment_id=environment_id, dataset_id=dataset_id, revision=number, created_by_id=created_by_id
        )
    )
    return int(number)


def _content(row: Any) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in CONTENT_FIELDS)


async def open_version(*, session: AsyncSession, item_id: uuid.UUID) -> DatasetItemVersionRow | None:
    """The item's current version (the one not yet replaced), or None for an item never versioned."""
    return await session.scalar(
        select(DatasetItemVersionRow).where(
            DatasetItemVersionRow.item_id == item_id, DatasetItemVersionRow.valid_to.is_(None)
        )
    )


async def record_item_change(
    *, session: AsyncSession, item: DatasetItemRow, created_by_id: uuid.UUID | None
) -> DatasetItemVersionRow | None:
    """Version the item's flushed state: a new revision of its dataset (and of the dataset it left, when it moved)
    and a new version valid from it. Returns the new version, or None when nothing a version holds changed."""
    current = await open_version(session=session, item_id=item.id)
    archived = bool(item.deleted)
    if (
        current is not None
        and current.dataset_id == item.dataset_id
        and current.archived == archived
        and _content(current) == _content(item)
    ):
        return None
    if current is not None and current.dataset_id != item.dataset_id:
        current.valid_to = await _next_revision(session, current.dataset_id, created_by_id)
        number = await _next_revision(session, item.dataset_id, created_by_id)
        previous_version = await session.scalar(
            select(func.max(DatasetItemVersionRow.version)).where(DatasetItemVersionRow.item_id == item.id)
        )
    else:
        number = await _next_revision(session, item.dataset_id, created_by_id)
        if current is not None:
            current.valid_to = number
        previous_version = current.version if current is not None else None
    version = DatasetItemVersionRow(
        environment_id=item.environment_id,
        dataset_id=item.dataset_id,
        item_id=item.id,
        version=(previous_version or 0) + 1,
        valid_from=number,
        archived=archived,
        created_by_id=created_by_id,
        **{name: getattr(item, name) for name in CONTENT_FIELDS},
    )
    session.add(version)
    item.version = version.version
    await session.flush()
    return version


def _valid_at(revision: int) -> Any:
    return and_(
        DatasetItemVersionRow.valid_from <= revision,
        or_(DatasetItemVersionRow.valid_to.is_(None), DatasetItemVersionRow.valid_to > revision),
    )


async def list_versions_at(
    *,
    session: AsyncSession,
    dataset_id: uuid.UUID,
    revision: int,
    archived: bool,
    limit: int,
    offset: int,
) -> tuple[int, list[DatasetItemVersionRow]]:
    """One page of the item versions a dataset held at `revision` (archived or active ones), oldest item first."""
    query = (
        select(DatasetItemVersionRow)
        .where(
            DatasetItemVersionRow.dataset_id == dataset_id,
            _valid_at(revision),
            DatasetItemVersionRow.archived.is_(archived),
        )
        .order_by(DatasetItemVersionRow.item_id)
    )
    return await fetch_page(session, query, limit=limit, offset=offset)


async def active_versions_at(
    *, session: AsyncSession, dataset_id: uuid.UUID, revision: int
) -> list[DatasetItemVersionRow]:
    """Every active item version of a dataset at `revision`, oldest item first."""
    rows = await session.scalars(
        select(DatasetItemVersionRow)
        .where(
            DatasetItemVersionRow.dataset_id == dataset_id,
            _valid_at(revision),
            DatasetItemVersionRow.archived.is_(False),
        )
        .order_by(DatasetItemVersionRow.item_id)
    )
    return list(rows)


async def version_at(*, session: AsyncSession, item_id: uuid.UUID, revision: int) -> DatasetItemVersionRow | None:
    """The version of an item its dataset held at `revision` (None when the item was not in it then)."""
    return await session.scalar(
        select(DatasetItemVersionRow).where(DatasetItemVersionRow.item_id == item_id, _valid_at(revision))
    )


async def item_version(*, session: AsyncSession, item_id: uuid.UUID, version: int) -> DatasetItemVersionRow | None:
    """One numbered version of an item."""
    return await session.scalar(
        select(DatasetItemVersionRow).where(
            DatasetItemVersionRow.item_id == item_id, DatasetItemVersionRow.version == version
        )
    )


async def list_item_versions(
    *, session: AsyncSession, item_id: uuid.UUID, limit: int, offset: int
) -> tuple[int, list[DatasetItemVersionRow]]:
    """Every version of an item, newest first."""
    query = (
        select(DatasetItemVersionRow)
        .where(DatasetItemVersionRow.item_id == item_id)
        .order_by(DatasetItemVersionRow.version.desc())
    )
    return await fetch_page(session, query, limit=limit, offset=offset)


async def list_revisions(
    *, session: AsyncSession, dataset_id: uuid.UUID, limit: int, offset: int
) -> tuple[int, list[DatasetRevisionRow]]:
    """A dataset's revisions, newest first."""
    query = (
        select(DatasetRevisionRow)
        .where(DatasetRevisionRow.dataset_id == dataset_id)
        .order_by(DatasetRevisionRow.revision.desc())
    )
    return await fetch_page(session, query, limit=limit, offset=offset)


async def revision_ids(*, session: AsyncSession, dataset_id: uuid.UUID, numbers: set[int]) -> dict[int, uuid.UUID]:
    """The ids of some revisions of a dataset, by number."""
    if not numbers:
        return {}
    rows = await session.execute(
        select(DatasetRevisionRow.revision, DatasetRevisionRow.id).where(
            DatasetRevisionRow.dataset_id == dataset_id, DatasetRevisionRow.revision.in_(numbers)
        )
    )
    return {int(number): rid for number, rid in rows.all()}


async def revision_by_id(*, session: AsyncSession, revision_id: uuid.UUID) -> DatasetRevisionRow | None:
    """A revision by its id."""
    return await session.get(DatasetRevisionRow, revision_id)


async def revision_at_time(*, session: AsyncSession, dataset_id: uuid.UUID, at: datetime) -> int | None:
    """The dataset's revision current at `at` (the last one made by then), or None when it had none yet."""
    number = await session.scalar(
        select(func.max(DatasetRevisionRow.revision)).where(
            DatasetRevisionRow.dataset_id == dataset_id, DatasetRevisionRow.created_at <= at
        )
    )
    return None if number is None else int(number)


async def resolve_revision(
    *, session: AsyncSession, dataset: DatasetRow, revision: int | None, at: datetime | None
) -> Revision | None:
    """The revision a read names (a number, a time, or neither: the current one); None for a dataset without one.

    Raises `ResourceNotFound` for a revision the dataset does not have.
    """
    number = revision
    if number is None and at is not None:
        number = await revision_at_time(session=session, dataset_id=dataset.id, at=at)
        if number is None:
            raise ResourceNotFound(f"Dataset {dataset.name!r} had no revision at {at.isoformat()}.")
    if number is None:
        number = dataset.current_revision
        if number is None:
            return None
    ids = await revision_ids(session=session, dataset_id=dataset.id, numbers={number})
    if number not in ids:
        raise ResourceNotFound(f"Dataset {dataset.name!r} has no revision {number}.")
    return Revision(number=number, id=ids[number])


async def current_revision_ids(*, session: AsyncSession, datasets: list[DatasetRow]) -> dict[uuid.UUID, uuid.UUID]:
    """The id of each dataset's current revision (datasets without one are left out), in one query."""
    pairs = [(d.id, d.current_revision) for d in datasets if d.current_revision is not None]
    if not pairs:
        return {}
    rows = await session.execute(
        select(DatasetRevisionRow.dataset_id, DatasetRevisionRow.id).where(
            or_(*(and_(DatasetRevisionRow.dataset_id == d, DatasetRevisionRow.revision == r) for d, r in pairs))
        )
    )
    return {row[0]: row[1] for row in rows.all()}
