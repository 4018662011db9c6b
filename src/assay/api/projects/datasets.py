"""`/api/projects/{project_id}/datasets`: datasets as `posthog.ai.evaluations` manages them, with revisions.

The same rows as `/api/environments/{id}/datasets` (archived is that API's `deleted`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from assay.api.deps import Principal, SessionDep, project_access
from assay.api.llm_analytics.common import WriteModel, parse_object_id, parse_ordering, scopes_doc
from assay.api.pagination import PageParams, make_page, page_params
from assay.api.projects.wire import PROJECT_RESPONSES, archived_param, dataset_json, parse_tags_param, revision_json
from assay.services import dataset_versions
from assay.storage import dataset_revisions as revisions
from assay.storage import datasets as store
from assay.storage.datasets import DATASET_ORDERINGS
from assay.storage.db import Session
from assay.storage.tables import DatasetRow

router = APIRouter(
    prefix="/api/projects/{project_id}/datasets", tags=["projects: datasets"], responses=PROJECT_RESPONSES
)
Read = Annotated[Principal, Depends(project_access("dataset:read"))]
Write = Annotated[Principal, Depends(project_access("dataset:write"))]


class DatasetCreate(WriteModel):
    name: str = Field(max_length=400)
    description: str | None = Field(default=None, max_length=10_000)
    metadata: dict[str, Any] | None = None
    tags: list[Annotated[str, Field(max_length=255)]] | None = Field(default=None, max_length=100)


class DatasetUpdate(WriteModel):
    name: str | None = Field(default=None, max_length=400)
    description: str | None = Field(default=None, max_length=10_000)
    metadata: dict[str, Any] | None = None
    tags: list[Annotated[str, Field(max_length=255)]] | None = Field(default=None, max_length=100)


def _fields(body: WriteModel) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if name == "metadata":
            data["metadata_"] = value or {}
        elif name == "description":
            data["description"] = value or ""
        elif name == "name" and value is None:
            continue
        else:
            data[name] = value
    return data


async def _one(session: Session, principal: Principal, row: DatasetRow) -> dict[str, Any]:
    ids = await revisions.current_revision_ids(session=session, datasets=[row])
    rid = ids.get(row.id)
    return dataset_json(row, team_id=principal.project_number or 0, revision_id=str(rid) if rid else None)


@router.get("", openapi_extra=scopes_doc("dataset:read"))
async def list_datasets(
    request: Request,
    session: SessionDep,
    principal: Read,
    page: Annotated[PageParams, Depends(page_params)],
    archived: Annotated[bool, Depends(archived_param)],
    search: Annotated[str | None, Query(description="Matches names, descriptions and metadata.")] = None,
    order_by: Annotated[str | None, Query(description="created_at, -created_at, updated_at or -updated_at.")] = None,
    tags: Annotated[str | None, Query(description="A JSON list of tag names.")] = None,
    tag_match: Annotated[Literal["any", "all"], Query(description="Any (default) or all of the tags.")] = "any",
) -> dict[str, Any]:
    """One page of the project's active datasets (or archived ones), newest first."""
    count, rows = await store.list_datasets(
        session=session,
        environment_id=principal.environment_id,
        limit=page.limit,
        offset=page.offset,
        search=search or None,
        order_by=parse_ordering([order_by] if order_by else None, DATASET_ORDERINGS),
        archived=archived,
        tags=parse_tags_param(tags),
        all_tags=tag_match == "all",
    )
    ids = await revisions.current_revision_ids(session=session, datasets=rows)
    team = principal.project_number or 0
    results = [dataset_json(r, team_id=team, revision_id=str(ids[r.id]) if r.id in ids else None) for r in rows]
    return make_page(request, page, count, results)


@router.post("", status_code=201, openapi_extra=scopes_doc("dataset:write"))
async def create_dataset(body: DatasetCreate, session: SessionDep, principal: Write) -> dict[str, Any]:
    """Create an empty dataset; names are unique in the project. It has no revision until its first item."""
    row = await dataset_versions.create_dataset(
        session=session, environment_id=principal.environment_id, created_by_id=principal.key_id, fields=_fields(body)
    )
    return await _one(session, principal, row)


@router.get("/{id}", openapi_extra=scopes_doc("dataset:read"))
async def retrieve_dataset(id: str, session: SessionDep, principal: Read) -> dict[str, Any]:
    """One dataset, archived or not, with its current revision."""
    row = await store.get_dataset(
        session=session, environment_id=principal.environment_id, dataset_id=parse_object_id(id), include_deleted=True
    )
    return await _one(session, principal, row)


@router.patch("/{id}", openapi_extra=scopes_doc("dataset:write"))
async def update_dataset(id: str, body: DatasetUpdate, session: SessionDep, principal: Write) -> dict[str, Any]:
    """Replace the given metadata fields; no revision is made."""
    row = await dataset_versions.update_dataset(
        session=session, environment_id=principal.environment_id, dataset_id=parse_object_id(id), fields=_fields(body)
    )
    return await _one(session, principal, row)


@router.post("/{id}/archive", openapi_extra=scopes_doc("dataset:write"))
async def archive_dataset(id: str, session: SessionDep, principal: Write) -> dict[str, Any]:
    """Archive a dataset: still readable, its items cannot change."""
    row = await dataset_versions.set_dataset_archived(
        session=session, environment_id=principal.environment_id, dataset_id=parse_object_id(id), archived=True
    )
    return await _one(session, principal, row)


@router.post("/{id}/restore", openapi_extra=scopes_doc("dataset:write"))
async def restore_dataset(id: str, session: SessionDep, principal: Write) -> dict[str, Any]:
    """Restore an archived dataset."""
    row = await dataset_versions.set_dataset_archived(
        session=session, environment_id=principal.environment_id, dataset_id=parse_object_id(id), archived=False
    )
    return await _one(session, principal, row)


@router.get("/{id}/revisions", openapi_extra=scopes_doc("dataset:read"))
async def list_revisions(
    id: str,
    request: Request,
    session: SessionDep,
    principal: Read,
    page: Annotated[PageParams, Depends(page_params)],
) -> dict[str, Any]:
    """The dataset's revisions, newest first."""
    row = await store.get_dataset(
        session=session, environment_id=principal.environment_id, dataset_id=parse_object_id(id), include_deleted=True
    )
    count, rows = await revisions.list_revisions(
        session=session, dataset_id=row.id, limit=page.limit, offset=page.offset
    )
    team = principal.project_number or 0
    return make_page(request, page, count, [revision_json(r, team_id=team) for r in rows])
