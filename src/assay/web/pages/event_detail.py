"""One event: its transcript (system, user, assistant, tool calls and results), figures, the `$ai_evaluation` verdicts
on it, its raw properties, and "Add to dataset" (through `services/dataset_items.py`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from assay.domain.transcript import event_figures, event_transcript
from assay.errors import ResourceNotFound, ValidationFailed
from assay.services.dataset_items import add_event_to_dataset
from assay.storage import datasets as dataset_store
from assay.storage import event_pages
from assay.storage import events as event_store
from assay.storage.db import Session
from assay.storage.event_tables import EventRow
from assay.web.auth import DbSession, User, WebUser
from assay.web.errors import mark_page
from assay.web.pages.events import require_events
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

DATASET_CHOICES = 200


async def load_event(session: Session, user: WebUser, event_uuid: uuid.UUID) -> EventRow:
    """The environment's event (another environment's is the API's 404)."""
    require_events(user)
    row = await event_store.get_event(session=session, environment_id=user.environment_id, event_uuid=event_uuid)
    if row is None:
        raise ResourceNotFound("Not found.")
    return row


def verdict_view(row: EventRow) -> dict[str, Any]:
    """What a page shows of one `$ai_evaluation` event."""
    props = row.properties or {}
    return {
        "uuid": str(row.uuid),
        "evaluation_id": props.get("$ai_evaluation_id"),
        "name": props.get("$ai_evaluation_name") or "evaluation",
        "runtime": props.get("$ai_evaluation_runtime"),
        "props": props,
        "reasoning": props.get("$ai_evaluation_reasoning") or "",
        "timestamp": row.timestamp,
    }


@router.get("/events/{event_uuid}")
async def event_page(request: Request, event_uuid: uuid.UUID, session: DbSession, user: User) -> Response:
    """The event as a transcript with its figures, verdicts and properties."""
    row = await load_event(session, user, event_uuid)
    props = row.properties or {}
    verdicts = await event_pages.evaluations_of(
        session=session, environment_id=user.environment_id, target_ids=[str(row.uuid)], trace_id=row.trace_id
    )
    can_add = user.can_write("dataset")
    datasets: list[Any] = []
    if can_add:
        _, datasets = await dataset_store.list_datasets(
            session=session, environment_id=user.environment_id, limit=DATASET_CHOICES, offset=0
        )
    inputs, outputs = event_transcript(props)
    added_item = request.query_params.get("added_item")
    added_dataset = request.query_params.get("added_dataset")
    context = {
        "row": row,
        "figures": event_figures(props),
        "inputs": inputs,
        "outputs": outputs,
        "state_input": props.get("$ai_input_state"),
        "state_output": props.get("$ai_output_state"),
        "verdicts": [verdict_view(v) for v in verdicts],
        "can_add": can_add,
        "datasets": datasets,
        "added": (added_dataset, added_item) if added_item and added_dataset else None,
    }
    return render(request, "event.html", context)


@router.post("/events/{event_uuid}/add-to-dataset")
async def add_to_dataset(
    event_uuid: uuid.UUID, session: DbSession, user: User, dataset: Annotated[str, Form()] = ""
) -> Response:
    """Create a dataset item from the event, then show the event again with a link to the item."""
    await load_event(session, user, event_uuid)
    user.require_write("dataset")
    try:
        dataset_id = uuid.UUID(dataset)
    except ValueError:
        raise ValidationFailed("dataset: choose a dataset", attr="dataset") from None
    item = await add_event_to_dataset(
        session=session,
        environment_id=user.environment_id,
        created_by_id=user.key_id,
        dataset_id=dataset_id,
        event_uuid=event_uuid,
    )
    await session.commit()
    return RedirectResponse(
        f"/events/{event_uuid}?added_dataset={item.dataset_id}&added_item={item.id}", status_code=303
    )
