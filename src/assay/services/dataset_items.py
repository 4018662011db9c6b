"""Adding an event to a dataset: the item "Add to dataset" creates, through the dataset-item storage the API uses."""

from __future__ import annotations

import uuid

from assay.domain.event_items import item_fields_from_event
from assay.errors import ResourceNotFound, ValidationFailed
from assay.storage import datasets as dataset_store
from assay.storage import event_pages
from assay.storage import events as event_store
from assay.storage.db import Session
from assay.storage.tables import DatasetItemRow


async def add_event_to_dataset(
    *,
    session: Session,
    environment_id: uuid.UUID,
    created_by_id: uuid.UUID | None,
    dataset_id: uuid.UUID,
    event_uuid: uuid.UUID,
) -> DatasetItemRow:
    """Create an item of `dataset_id` from the environment's event (the caller commits).

    Another environment's event is `ResourceNotFound`; a dataset that is not the environment's (or is deleted)
    is `ValidationFailed` on `dataset`, as the API's create refuses it.
    """
    row = await event_store.get_event(session=session, environment_id=environment_id, event_uuid=event_uuid)
    if row is None:
        raise ResourceNotFound("Not found.")
    dataset = await dataset_store.find_dataset(
        session=session, environment_id=environment_id, id_or_name=str(dataset_id)
    )
    if dataset is None or dataset.id != dataset_id:
        raise ValidationFailed(
            f'Invalid pk "{dataset_id}" - object does not exist.', attr="dataset", code="does_not_exist"
        )
    started = (
        await event_pages.trace_started_at(session=session, environment_id=environment_id, trace_id=row.trace_id)
        if row.trace_id
        else None
    )
    fields = item_fields_from_event(
        event_name=row.event,
        event_uuid=str(row.uuid),
        timestamp=row.timestamp,
        properties=row.properties or {},
        trace_id=row.trace_id,
        trace_started_at=started,
    )
    return await dataset_store.create_dataset_item(
        session=session,
        environment_id=environment_id,
        created_by_id=created_by_id,
        fields={**fields, "dataset_id": dataset.id, "deleted": False},
    )
