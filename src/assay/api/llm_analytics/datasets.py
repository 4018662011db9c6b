"""`/api/environments/{environment_id}/datasets`: list, create, retrieve, update; no hard delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, field_validator

from assay.api.deps import Principal, SessionDep, environment_access
from assay.api.llm_analytics.common import (
    ERROR_RESPONSES,
    UserBasic,
    WriteModel,
    not_blank,
    not_null_or_blank,
    parse_id_list,
    parse_object_id,
    parse_ordering,
    scopes_doc,
    user_basic,
    written_fields,
)
from assay.api.pagination import Page, PageParams, make_page, page_params
from assay.services import datasets
from assay.storage import datasets as store
from assay.storage.datasets import DATASET_ORDERINGS
from assay.storage.tables import DatasetRow

router = APIRouter(prefix="/api/environments/{environment_id}/datasets", tags=["datasets"], responses=ERROR_RESPONSES)
Access = Annotated[Principal, Depends(environment_access("dataset"))]
HARD_DELETE_DOC = 'Hard delete of this model is not allowed. Use a patch API call to set "deleted" to true'


class DatasetWrite(WriteModel):
    name: str = Field(max_length=400)
    description: str | None = None
    metadata: Any = None
    deleted: bool | None = None

    _name_not_blank = field_validator("name")(not_blank)


class DatasetPatch(WriteModel):
    name: str | None = Field(default=None, max_length=400)
    description: str | None = None
    metadata: Any = None
    deleted: bool | None = None

    _name_not_null = field_validator("name")(not_null_or_blank)


class DatasetPublic(BaseModel):
    id: str
    name: str
    description: str | None
    metadata: Any
    created_at: datetime
    updated_at: datetime | None
    deleted: bool | None
    created_by: UserBasic | None
    team: str


def to_public(row: DatasetRow) -> DatasetPublic:
    return DatasetPublic(
        id=str(row.id),
        name=row.name,
        description=row.description,
        metadata=row.metadata_,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted=row.deleted,
        created_by=user_basic(row.created_by),
        team=str(row.environment_id),
    )


@router.get("", openapi_extra=scopes_doc("dataset:read"))
async def list_datasets(
    request: Request,
    session: SessionDep,
    principal: Access,
    page: Annotated[PageParams, Depends(page_params)],
    search: Annotated[
        str | None, Query(description="Case-insensitive match on name, description and metadata.")
    ] = None,
    id__in: Annotated[list[str] | None, Query(description="Comma-separated dataset ids.")] = None,
    order_by: Annotated[
        list[str] | None, Query(description="created_at, -created_at, updated_at or -updated_at.")
    ] = None,
) -> Page[DatasetPublic]:
    """List the environment's datasets, newest first."""
    count, rows = await store.list_datasets(
        session=session,
        environment_id=principal.environment_id,
        limit=page.limit,
        offset=page.offset,
        search=search or None,
        ids=parse_id_list(id__in),
        order_by=parse_ordering(order_by, DATASET_ORDERINGS),
    )
    return make_page(request, page, count, [to_public(r) for r in rows])  # type: ignore[return-value]


@router.post("", status_code=201, openapi_extra=scopes_doc("dataset:write"))
async def create_dataset(body: DatasetWrite, session: SessionDep, principal: Access) -> DatasetPublic:
    """Create a dataset."""
    row = await datasets.create_dataset(
        session=session,
        environment_id=principal.environment_id,
        created_by_id=principal.key_id,
        fields=written_fields(body),
    )
    return to_public(row)


@router.get("/{id}", openapi_extra=scopes_doc("dataset:read"))
async def retrieve_dataset(id: str, session: SessionDep, principal: Access) -> DatasetPublic:
    """Retrieve one dataset (soft-deleted datasets are not found)."""
    row = await store.get_dataset(
        session=session, environment_id=principal.environment_id, dataset_id=parse_object_id(id)
    )
    return to_public(row)


@router.patch("/{id}", openapi_extra=scopes_doc("dataset:write"))
async def update_dataset(id: str, body: DatasetPatch, session: SessionDep, principal: Access) -> DatasetPublic:
    """Update some fields; `{"deleted": true}` soft-deletes and `{"deleted": false}` restores."""
    row = await datasets.update_dataset(
        session=session,
        environment_id=principal.environment_id,
        dataset_id=parse_object_id(id),
        fields=written_fields(body),
    )
    return to_public(row)


@router.put("/{id}", openapi_extra=scopes_doc("dataset:write"))
async def replace_dataset(id: str, body: DatasetWrite, session: SessionDep, principal: Access) -> DatasetPublic:
    """Replace the dataset's writable fields."""
    dataset_id = parse_object_id(id)
    fields = {"name": body.name, "description": body.description, "metadata_": body.metadata}
    if "deleted" in body.model_fields_set:
        fields["deleted"] = body.deleted
    row = await datasets.update_dataset(
        session=session, environment_id=principal.environment_id, dataset_id=dataset_id, fields=fields
    )
    return to_public(row)


@router.delete("/{id}", status_code=405, description=HARD_DELETE_DOC, openapi_extra=scopes_doc("dataset:write"))
async def delete_dataset(id: str, principal: Access) -> Response:
    """Hard delete is not allowed."""
    return Response(status_code=405)
