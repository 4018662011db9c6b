"""Datasets and dataset items: create, update, soft-delete and restore (the API and the web UI share these)."""

from __future__ import annotations

import uuid
from typing import Any

from assay.errors import ValidationFailed
from assay.storage import datasets as store
from assay.storage.db import Session
from assay.storage.tables import DatasetItemRow, DatasetRow

MAX_NAME_LENGTH = 400


def check_name(name: str) -> str:
    """A dataset name as stored, or `ValidationFailed` when blank or too long (the API's rules)."""
    if not name.strip():
        raise ValidationFailed("This field may not be blank.", attr="name", code="blank")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            f"Ensure this field has no more than {MAX_NAME_LENGTH} characters.", attr="name", code="max_length"
        )
    return name


async def create_dataset(
    *, session: Session, environment_id: uuid.UUID, created_by_id: uuid.UUID | None, fields: dict[str, Any]
) -> DatasetRow:
    """Create a dataset (not deleted unless `fields` says so) and commit."""
    fields = {"deleted": False, **fields}
    row = await store.create_dataset(
        session=session, environment_id=environment_id, created_by_id=created_by_id, fields=fields
    )
    await session.commit()
    return row


async def update_dataset(
    *, session: Session, environment_id: uuid.UUID, dataset_id: uuid.UUID, fields: dict[str, Any]
) -> DatasetRow:
    """Apply `fields` to a dataset of the environment, deleted or not (`deleted` soft-deletes or restores)."""
    row = await store.get_dataset(
        session=session, environment_id=environment_id, dataset_id=dataset_id, include_deleted=True
    )
    await store.update_row(session=session, row=row, fields=fields)
    await session.commit()
    return row


async def _item_fields(session: Session, environment_id: uuid.UUID, fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with `dataset` (an id that must be the environment's) renamed to `dataset_id`."""
    data = dict(fields)
    if "dataset" in data:
        dataset_id = data.pop("dataset")
        if not await store.dataset_exists(session=session, environment_id=environment_id, dataset_id=dataset_id):
            raise ValidationFailed(
                f'Invalid pk "{dataset_id}" - object does not exist.', attr="dataset", code="does_not_exist"
            )
        data["dataset_id"] = dataset_id
    return data


async def create_dataset_item(
    *, session: Session, environment_id: uuid.UUID, created_by_id: uuid.UUID | None, fields: dict[str, Any]
) -> DatasetItemRow:
    """Create an item in a dataset of the environment (`fields["dataset"]` is its id) and commit."""
    data = {"deleted": False, **await _item_fields(session, environment_id, fields)}
    row = await store.create_dataset_item(
        session=session, environment_id=environment_id, created_by_id=created_by_id, fields=data
    )
    await session.commit()
    return row


async def update_dataset_item(
    *,
    session: Session,
    environment_id: uuid.UUID,
    item_id: uuid.UUID,
    fields: dict[str, Any],
    changed_by_id: uuid.UUID | None = None,
) -> DatasetItemRow:
    """Apply `fields` to an item of the environment, deleted or not, and commit (a change makes a new revision)."""
    row = await store.get_dataset_item(
        session=session, environment_id=environment_id, item_id=item_id, include_deleted=True
    )
    data = await _item_fields(session, environment_id, fields)
    await store.update_dataset_item(session=session, row=row, fields=data, changed_by_id=changed_by_id)
    await session.commit()
    return row
