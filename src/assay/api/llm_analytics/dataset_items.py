"""`/api/environments/{environment_id}/dataset_items`: list, create, retrieve, update; no hard delete."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, field_validator

from assay.api.deps import Principal, SessionDep, environment_access
from assay.api.llm_analytics.common import (
    ERROR_RESPONSES,
    UserBasic,
    WriteModel,
    not_null_or_blank,
    parse_object_id,
    scopes_doc,
    user_basic,
    written_fields,
)
from assay.api.llm_analytics.datasets import HARD_DELETE_DOC
from assay.api.pagination import Page, PageParams, make_page, page_params
from assay.errors import ValidationFailed
from assay.services import datasets
from assay.storage import datasets as store
from assay.storage.tables import DatasetItemRow

router = APIRouter(
    prefix="/api/environments/{environment_id}/dataset_items", tags=["dataset_items"], responses=ERROR_RESPONSES
)
Access = Annotated[Principal, Depends(environment_access("dataset"))]


class ItemFields(WriteModel):
    input: Any = None
    output: Any = None
    metadata: Any = None
    ref_trace_id: str | None = Field(default=None, max_length=255)
    ref_timestamp: datetime | None = None
    ref_source_id: str | None = Field(default=None, max_length=255)
    deleted: bool | None = None


class DatasetItemWrite(ItemFields):
    dataset: uuid.UUID


class DatasetItemPatch(ItemFields):
    dataset: uuid.UUID | None = None

    @field_validator("dataset", mode="before")
    @classmethod
    def _dataset_not_null(cls, value: Any) -> Any:
        return not_null_or_blank(value) if value is None or isinstance(value, str) else value


class DatasetItemPublic(BaseModel):
    id: str
    dataset: str
    input: Any
    output: Any
    metadata: Any
    ref_trace_id: str | None
    ref_timestamp: datetime | None
    ref_source_id: str | None
    deleted: bool | None
    created_at: datetime
    updated_at: datetime | None
    created_by: UserBasic | None
    team: str


def to_public(row: DatasetItemRow) -> DatasetItemPublic:
    return DatasetItemPublic(
        id=str(row.id),
        dataset=str(row.dataset_id),
        input=row.input,
        output=row.output,
        metadata=row.metadata_,
        ref_trace_id=row.ref_trace_id,
        ref_timestamp=row.ref_timestamp,
        ref_source_id=row.ref_source_id,
        deleted=row.deleted,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=user_basic(row.created_by),
        team=str(row.environment_id),
    )


@router.get("", openapi_extra=scopes_doc("dataset:read"))
async def list_dataset_items(
    request: Request,
    session: SessionDep,
    principal: Access,
    page: Annotated[PageParams, Depends(page_params)],
    dataset: Annotated[str | None, Query(description="Only items of this dataset.")] = None,
) -> Page[DatasetItemPublic]:
    """List the environment's dataset items, newest first."""
    dataset_id = None
    if dataset:
        try:
            dataset_id = uuid.UUID(dataset)
        except ValueError:
            dataset_id = None
        if dataset_id is None or not await store.dataset_exists(
            session=session, environment_id=principal.environment_id, dataset_id=dataset_id
        ):
            raise ValidationFailed(
                "Select a valid choice. That choice is not one of the available choices.",
                attr="dataset",
                code="invalid_choice",
            )
    count, rows = await store.list_dataset_items(
        session=session,
        environment_id=principal.environment_id,
        limit=page.limit,
        offset=page.offset,
        dataset_id=dataset_id,
    )
    return make_page(request, page, count, [to_public(r) for r in rows])  # type: ignore[return-value]


@router.post("", status_code=201, openapi_extra=scopes_doc("dataset:write"))
async def create_dataset_item(body: DatasetItemWrite, session: SessionDep, principal: Access) -> DatasetItemPublic:
    """Create a dataset item."""
    row = await datasets.create_dataset_item(
        session=session,
        environment_id=principal.environment_id,
        created_by_id=principal.key_id,
        fields=written_fields(body),
    )
    return to_public(row)


@router.get("/{id}", openapi_extra=scopes_doc("dataset:read"))
async def retrieve_dataset_item(id: str, session: SessionDep, principal: Access) -> DatasetItemPublic:
    """Retrieve one dataset item (soft-deleted items are not found)."""
    row = await store.get_dataset_item(
        session=session, environment_id=principal.environment_id, item_id=parse_object_id(id)
    )
    return to_public(row)


@router.patch("/{id}", openapi_extra=scopes_doc("dataset:write"))
async def update_dataset_item(
    id: str, body: DatasetItemPatch, session: SessionDep, principal: Access
) -> DatasetItemPublic:
    """Update some fields; `{"deleted": true}` soft-deletes and `{"deleted": false}` restores."""
    row = await datasets.update_dataset_item(
        session=session,
        environment_id=principal.environment_id,
        item_id=parse_object_id(id),
        fields=written_fields(body),
        changed_by_id=principal.key_id,
    )
    return to_public(row)


@router.put("/{id}", openapi_extra=scopes_doc("dataset:write"))
async def replace_dataset_item(
    id: str, body: DatasetItemWrite, session: SessionDep, principal: Access
) -> DatasetItemPublic:
    """Replace the item's writable fields."""
    item_id = parse_object_id(id)
    body_fields = body.model_fields_set | {"dataset", "input", "output", "metadata", "ref_trace_id"}
    body_fields |= {"ref_timestamp", "ref_source_id"}
    body.__pydantic_fields_set__ = body_fields
    row = await datasets.update_dataset_item(
        session=session,
        environment_id=principal.environment_id,
        item_id=item_id,
        fields=written_fields(body),
        changed_by_id=principal.key_id,
    )
    return to_public(row)


@router.delete("/{id}", status_code=405, description=HARD_DELETE_DOC, openapi_extra=scopes_doc("dataset:write"))
async def delete_dataset_item(id: str, principal: Access) -> Response:
    """Hard delete is not allowed."""
    return Response(status_code=405)
