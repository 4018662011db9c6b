"""Datasets as PostHog's evaluations SDK manages them: unique names, tags, archive and restore, and item writes
that name the version they change (`base_version`), so a stale write is a conflict, never a lost update.

Every item change goes through `storage/datasets.py`, which versions the item under a new dataset revision
(`storage/dataset_revisions.py`); the `/api/environments/{id}/datasets` API writes the same rows.
"""

from __future__ import annotations

import uuid
from typing import Any

from assay.errors import ConflictError, ResourceNotFound, ValidationFailed
from assay.services.datasets import check_name
from assay.storage import dataset_revisions as revisions
from assay.storage import datasets as store
from assay.storage.dataset_revision_tables import DatasetItemVersionRow
from assay.storage.db import Session
from assay.storage.tables import DatasetItemRow, DatasetRow

EDITABLE_ITEM_FIELDS = ("input", "output", "metadata_")
"""What an item update may change (where the item came from never changes)."""


def normalize_tags(tags: list[str]) -> list[str]:
    """Tag names as stored: trimmed, lower-case, each once, sorted."""
    return sorted({t.strip().lower() for t in tags if t.strip()})


async def _check_unique_name(
    session: Session, environment_id: uuid.UUID, name: str, other_than: uuid.UUID | None = None
) -> None:
    if await store.dataset_name_taken(session=session, environment_id=environment_id, name=name, other_than=other_than):
        raise ValidationFailed("A dataset with this name already exists.", attr="name", code="unique")


async def create_dataset(
    *, session: Session, environment_id: uuid.UUID, created_by_id: uuid.UUID | None, fields: dict[str, Any]
) -> DatasetRow:
    """Create an empty dataset with a name no other dataset of the environment has, and commit."""
    name = check_name(fields["name"])
    await _check_unique_name(session, environment_id, name)
    data = {"deleted": False, "description": "", "metadata_": {}, "tags": [], **fields}
    data["tags"] = normalize_tags(data["tags"] or [])
    row = await store.create_dataset(
        session=session, environment_id=environment_id, created_by_id=created_by_id, fields=data
    )
    await session.commit()
    return row


async def update_dataset(
    *, session: Session, environment_id: uuid.UUID, dataset_id: uuid.UUID, fields: dict[str, Any]
) -> DatasetRow:
    """Replace the given metadata fields (name, description, metadata, tags) and commit; no revision is made."""
    row = await store.get_dataset(
        session=session, environment_id=environment_id, dataset_id=dataset_id, include_deleted=True
    )
    data = dict(fields)
    if "name" in data:
        data["name"] = check_name(data["name"])
        await _check_unique_name(session, environment_id, data["name"], other_than=row.id)
    if "tags" in data:
        data["tags"] = normalize_tags(data["tags"] or [])
    await store.update_row(session=session, row=row, fields=data)
    await session.commit()
    return row


async def set_dataset_archived(
    *, session: Session, environment_id: uuid.UUID, dataset_id: uuid.UUID, archived: bool
) -> DatasetRow:
    """Archive (soft-delete) or restore a dataset and commit; its items keep their own state."""
    return await update_dataset(
        session=session, environment_id=environment_id, dataset_id=dataset_id, fields={"deleted": archived}
    )


async def _writable_dataset(session: Session, environment_id: uuid.UUID, dataset_id: uuid.UUID) -> DatasetRow:
    row = await store.get_dataset(
        session=session, environment_id=environment_id, dataset_id=dataset_id, include_deleted=True
    )
    if row.deleted:
        raise ConflictError("The dataset is archived: restore it before changing its items.")
    return row


async def _current(session: Session, item: DatasetItemRow) -> DatasetItemVersionRow:
    version = await revisions.open_version(session=session, item_id=item.id)
    if version is None:
        raise ResourceNotFound("Not found.")
    return version


async def create_item(
    *,
    session: Session,
    environment_id: uuid.UUID,
    created_by_id: uuid.UUID | None,
    dataset_id: uuid.UUID,
    fields: dict[str, Any],
) -> tuple[DatasetItemRow, DatasetItemVersionRow, bool]:
    """Add an item (its first version and a dataset revision) and commit; returns (item, version, created).

    With a `client_item_id` the create is idempotent: the same content again returns the existing item
    (`created` False); different content, or an archived item, is a `ConflictError`.
    """
    dataset = await _writable_dataset(session, environment_id, dataset_id)
    if fields.get("input") is None:
        raise ValidationFailed("This field may not be null.", attr="input", code="null")
    fields = {"metadata_": {}, **fields}
    client_item_id = fields.get("client_item_id")
    if client_item_id is not None:
        existing = await store.item_by_client_id(session=session, dataset_id=dataset.id, client_item_id=client_item_id)
        if existing is not None:
            version = await _current(session, existing)
            same = all(getattr(version, name) == fields.get(name) for name in revisions.CONTENT_FIELDS)
            if existing.deleted or not same:
                raise ConflictError("An item with this client_item_id exists with other content or is archived.")
            return existing, version, False
    row = await store.create_dataset_item(
        session=session,
        environment_id=environment_id,
        created_by_id=created_by_id,
        fields={**fields, "dataset_id": dataset.id, "deleted": False},
    )
    version = await _current(session, row)
    await session.commit()
    return row, version, True


async def _item_at_base(
    session: Session, environment_id: uuid.UUID, item_id: uuid.UUID, base_version: int
) -> DatasetItemRow:
    row = await store.get_dataset_item(
        session=session, environment_id=environment_id, item_id=item_id, include_deleted=True
    )
    await _writable_dataset(session, environment_id, row.dataset_id)
    if row.version != base_version:
        raise ConflictError(f"The item is at version {row.version}, not {base_version}: read it again.")
    return row


async def update_item(
    *,
    session: Session,
    environment_id: uuid.UUID,
    item_id: uuid.UUID,
    base_version: int,
    fields: dict[str, Any],
    changed_by_id: uuid.UUID | None,
) -> tuple[DatasetItemRow, DatasetItemVersionRow]:
    """Change an active item's input, expected output or metadata and commit; the same content changes nothing."""
    row = await _item_at_base(session, environment_id, item_id, base_version)
    if row.deleted:
        raise ConflictError("The item is archived: restore it before changing it.")
    if "input" in fields and fields["input"] is None:
        raise ValidationFailed("This field may not be null.", attr="input", code="null")
    data = {name: value for name, value in fields.items() if name in EDITABLE_ITEM_FIELDS}
    await store.update_dataset_item(session=session, row=row, fields=data, changed_by_id=changed_by_id)
    version = await _current(session, row)
    await session.commit()
    return row, version


async def archive_item(
    *, session: Session, environment_id: uuid.UUID, item_id: uuid.UUID, base_version: int, by: uuid.UUID | None
) -> tuple[DatasetItemRow, DatasetItemVersionRow]:
    """Archive an active item (a new version and revision) and commit."""
    row = await _item_at_base(session, environment_id, item_id, base_version)
    if row.deleted:
        raise ConflictError("The item is already archived.")
    await store.update_dataset_item(session=session, row=row, fields={"deleted": True}, changed_by_id=by)
    version = await _current(session, row)
    await session.commit()
    return row, version


async def restore_item(
    *,
    session: Session,
    environment_id: uuid.UUID,
    item_id: uuid.UUID,
    base_version: int,
    source_version: int | None,
    by: uuid.UUID | None,
) -> tuple[DatasetItemRow, DatasetItemVersionRow]:
    """Restore an archived item, with the content of an older version when `source_version` names one, and commit."""
    row = await _item_at_base(session, environment_id, item_id, base_version)
    if not row.deleted:
        raise ConflictError("The item is not archived.")
    fields: dict[str, Any] = {"deleted": False}
    if source_version is not None:
        source = await revisions.item_version(session=session, item_id=row.id, version=source_version)
        if source is None:
            raise ValidationFailed(f"The item has no version {source_version}.", attr="source_version")
        fields.update({name: getattr(source, name) for name in revisions.CONTENT_FIELDS})
    await store.update_dataset_item(session=session, row=row, fields=fields, changed_by_id=by)
    version = await _current(session, row)
    await session.commit()
    return row, version
