"""`/api/projects/{project_id}/dataset_items`: item versions as `posthog.ai.evaluations` reads and writes them.

A read names a revision (`revision`, the SDK's) or a time (`at`, Assay's) or neither (the current revision).
Writes name the version they change (`base_version`); each change is a new version and a new dataset revision.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from assay.api.deps import Principal, SessionDep, project_access
from assay.api.llm_analytics.common import WriteModel, parse_object_id, scopes_doc
from assay.api.pagination import PageParams, make_page, page_params
from assay.api.projects.wire import PROJECT_RESPONSES, archived_param, item_json, revision_params
from assay.errors import ResourceNotFound, ValidationFailed
from assay.services import dataset_versions
from assay.storage import dataset_revisions as revisions
from assay.storage import datasets as store
from assay.storage.dataset_revision_tables import DatasetItemVersionRow
from assay.storage.db import Session
from assay.storage.tables import DatasetItemRow

router = APIRouter(
    prefix="/api/projects/{project_id}/dataset_items", tags=["projects: dataset items"], responses=PROJECT_RESPONSES
)
Read = Annotated[Principal, Depends(project_access("dataset:read"))]
Write = Annotated[Principal, Depends(project_access("dataset:write"))]
RevisionParams = Annotated[tuple[int | None, datetime | None], Depends(revision_params)]
Identifier = Annotated[str, Field(min_length=1, max_length=255)]


class ItemCreate(WriteModel):
    dataset: uuid.UUID
    input: Any
    expected_output: Any = None
    source_output: Any = None
    metadata: dict[str, Any] | None = None
    client_item_id: Identifier | None = None
    source_trace_id: Identifier | None = None
    source_event_id: Identifier | None = None
    source_timestamp: datetime | None = None


class ItemUpdate(WriteModel):
    base_version: int = Field(ge=1)
    input: Any = None
    expected_output: Any = None
    metadata: dict[str, Any] | None = None


class ItemArchive(WriteModel):
    base_version: int = Field(ge=1)


class ItemRestore(WriteModel):
    base_version: int = Field(ge=1)
    source_version: int | None = Field(default=None, ge=1)


async def _items_json(
    session: Session, principal: Principal, pairs: list[tuple[DatasetItemRow, DatasetItemVersionRow]]
) -> list[dict[str, Any]]:
    ids: dict[tuple[uuid.UUID, int], uuid.UUID] = {}
    for dataset_id in {v.dataset_id for _, v in pairs}:
        numbers = {v.valid_from for _, v in pairs if v.dataset_id == dataset_id}
        found = await revisions.revision_ids(session=session, dataset_id=dataset_id, numbers=numbers)
        ids.update({(dataset_id, n): rid for n, rid in found.items()})
    team = principal.project_number or 0
    return [item_json(item, v, revision_id=str(ids[(v.dataset_id, v.valid_from)]), team_id=team) for item, v in pairs]


async def _one(session: Session, principal: Principal, item: DatasetItemRow, version: DatasetItemVersionRow) -> Any:
    return (await _items_json(session, principal, [(item, version)]))[0]


@router.get("", openapi_extra=scopes_doc("dataset:read"))
async def list_items(
    request: Request,
    session: SessionDep,
    principal: Read,
    page: Annotated[PageParams, Depends(page_params)],
    archived: Annotated[bool, Depends(archived_param)],
    at_revision: RevisionParams,
    dataset: Annotated[str | None, Query(description="The dataset (required).")] = None,
) -> dict[str, Any]:
    """One page of a dataset's active (or archived) items at a revision, oldest item first."""
    try:
        dataset_id = uuid.UUID(dataset or "")
    except ValueError:
        raise ValidationFailed("Give the dataset's id.", attr="dataset", code="required") from None
    row = await store.get_dataset(
        session=session, environment_id=principal.environment_id, dataset_id=dataset_id, include_deleted=True
    )
    revision = await revisions.resolve_revision(
        session=session, dataset=row, revision=at_revision[0], at=at_revision[1]
    )
    if revision is None:
        return make_page(request, page, 0, [])
    count, versions = await revisions.list_versions_at(
        session=session,
        dataset_id=row.id,
        revision=revision.number,
        archived=archived,
        limit=page.limit,
        offset=page.offset,
    )
    items = await store.dataset_items_by_id(session=session, ids=[v.item_id for v in versions])
    results = await _items_json(session, principal, [(items[v.item_id], v) for v in versions])
    return make_page(request, page, count, results)


@router.post("", status_code=201, openapi_extra=scopes_doc("dataset:write"))
async def create_item(body: ItemCreate, session: SessionDep, principal: Write) -> Any:
    """Add an item (its first version and a new dataset revision); with `client_item_id`, a replay is answered
    with the existing item."""
    if (body.source_trace_id is None) != (body.source_timestamp is None):
        raise ValidationFailed("Give source_trace_id and source_timestamp together.", attr="source_timestamp")
    fields = {
        "input": body.input,
        "output": body.expected_output,
        "source_output": body.source_output,
        "metadata_": body.metadata or {},
        "client_item_id": body.client_item_id,
        "ref_trace_id": body.source_trace_id,
        "ref_source_id": body.source_event_id,
        "ref_timestamp": body.source_timestamp,
    }
    item, version, _ = await dataset_versions.create_item(
        session=session,
        environment_id=principal.environment_id,
        created_by_id=principal.key_id,
        dataset_id=body.dataset,
        fields=fields,
    )
    return await _one(session, principal, item, version)


@router.get("/{id}", openapi_extra=scopes_doc("dataset:read"))
async def retrieve_item(id: str, session: SessionDep, principal: Read, at_revision: RevisionParams) -> Any:
    """An item's current version, or the one its dataset held at a revision or a time."""
    item = await store.get_dataset_item(
        session=session, environment_id=principal.environment_id, item_id=parse_object_id(id), include_deleted=True
    )
    revision_number, at = at_revision
    if revision_number is None and at is None:
        version = await revisions.open_version(session=session, item_id=item.id)
    else:
        dataset = await store.get_dataset(
            session=session, environment_id=principal.environment_id, dataset_id=item.dataset_id, include_deleted=True
        )
        revision = await revisions.resolve_revision(session=session, dataset=dataset, revision=revision_number, at=at)
        version = (
            None
            if revision is None
            else await revisions.version_at(session=session, item_id=item.id, revision=revision.number)
        )
    if version is None:
        raise ResourceNotFound("Not found.")
    return await _one(session, principal, item, version)


@router.patch("/{id}", openapi_extra=scopes_doc("dataset:write"))
async def update_item(id: str, body: ItemUpdate, session: SessionDep, principal: Write) -> Any:
    """Change input, expected output or metadata of the version `base_version`; the same content is a no-op."""
    names = {"input": "input", "expected_output": "output", "metadata": "metadata_"}
    fields = {column: getattr(body, name) for name, column in names.items() if name in body.model_fields_set}
    if "metadata_" in fields:
        fields["metadata_"] = fields["metadata_"] or {}
    item, version = await dataset_versions.update_item(
        session=session,
        environment_id=principal.environment_id,
        item_id=parse_object_id(id),
        base_version=body.base_version,
        fields=fields,
        changed_by_id=principal.key_id,
    )
    return await _one(session, principal, item, version)


@router.post("/{id}/archive", openapi_extra=scopes_doc("dataset:write"))
async def archive_item(id: str, body: ItemArchive, session: SessionDep, principal: Write) -> Any:
    """Archive an active item (a new version)."""
    item, version = await dataset_versions.archive_item(
        session=session,
        environment_id=principal.environment_id,
        item_id=parse_object_id(id),
        base_version=body.base_version,
        by=principal.key_id,
    )
    return await _one(session, principal, item, version)


@router.post("/{id}/restore", openapi_extra=scopes_doc("dataset:write"))
async def restore_item(id: str, body: ItemRestore, session: SessionDep, principal: Write) -> Any:
    """Restore an archived item, optionally with the content of an older version."""
    item, version = await dataset_versions.restore_item(
        session=session,
        environment_id=principal.environment_id,
        item_id=parse_object_id(id),
        base_version=body.base_version,
        source_version=body.source_version,
        by=principal.key_id,
    )
    return await _one(session, principal, item, version)


@router.get("/{id}/versions", openapi_extra=scopes_doc("dataset:read"))
async def list_item_versions(
    id: str,
    request: Request,
    session: SessionDep,
    principal: Read,
    page: Annotated[PageParams, Depends(page_params)],
) -> dict[str, Any]:
    """Every version of an item, newest first."""
    item = await store.get_dataset_item(
        session=session, environment_id=principal.environment_id, item_id=parse_object_id(id), include_deleted=True
    )
    count, versions = await revisions.list_item_versions(
        session=session, item_id=item.id, limit=page.limit, offset=page.offset
    )
    return make_page(request, page, count, await _items_json(session, principal, [(item, v) for v in versions]))
