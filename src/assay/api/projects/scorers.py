"""`/api/projects/{project_id}/llm_analytics/score_definitions`: scorers as `posthog.ai.evaluations` manages them.

Reads take `evaluation:read` (or `llm_analytics:read`), writes `evaluation:write` (or `llm_analytics:write`).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from assay.api.deps import Principal, SessionDep, project_access
from assay.api.llm_analytics.common import WriteModel, parse_bool_param, parse_object_id, scopes_doc
from assay.api.pagination import PageParams, make_page, page_params
from assay.api.projects.wire import PROJECT_RESPONSES, parse_tags_param, user_json
from assay.errors import ValidationFailed
from assay.services import scorers as service
from assay.storage import scorers as store
from assay.storage.db import Session
from assay.storage.experiment_tables import ScorerRow, ScorerVersionRow
from assay.storage.scorers import SCORER_ORDERINGS

router = APIRouter(
    prefix="/api/projects/{project_id}/llm_analytics/score_definitions",
    tags=["projects: scorers"],
    responses=PROJECT_RESPONSES,
)
Read = Annotated[Principal, Depends(project_access("evaluation:read"))]
Write = Annotated[Principal, Depends(project_access("evaluation:write"))]
Tags = list[Annotated[str, Field(max_length=255)]]


class ScorerCreate(WriteModel):
    name: Any = None
    kind: Literal["boolean", "numeric", "categorical"]
    config: dict[str, Any]
    description: str | None = Field(default=None, max_length=10_000)
    tags: Tags | None = Field(default=None, max_length=100)
    calculation: Literal["reported", "composite"] = "reported"
    composition: Any = None


class ScorerUpdate(WriteModel):
    name: str | None = Field(default=None, max_length=400)
    description: str | None = Field(default=None, max_length=10_000)
    archived: bool | None = None
    tags: Tags | None = Field(default=None, max_length=100)


class ScorerVersionCreate(WriteModel):
    config: dict[str, Any]
    base_version: int | None = Field(default=None, ge=1)
    name: str | None = Field(default=None, max_length=400)
    description: str | None = Field(default=None, max_length=10_000)
    composition: Any = None


def version_json(row: ScorerVersionRow) -> dict[str, Any]:
    """A scorer version as the SDK's `ScorerVersion`."""
    return {
        "id": str(row.id),
        "definition_id": str(row.scorer_id),
        "version": row.version,
        "kind": row.kind,
        "config": row.config,
        "created_at": row.created_at.isoformat(),
        "created_by": user_json(row.created_by),
        "calculation": "reported",
        "composition": None,
    }


def scorer_json(row: ScorerRow, current: ScorerVersionRow, team: int) -> dict[str, Any]:
    """A scorer as the SDK's `Scorer`."""
    return {
        "id": str(row.id),
        "name": row.name,
        "description": row.description or "",
        "kind": row.kind,
        "archived": row.archived,
        "current_version": row.current_version,
        "current_version_id": str(current.id),
        "config": current.config,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "created_by": user_json(row.created_by),
        "team": team,
        "tags": list(row.tags or []),
        "calculation": "reported",
        "composition": None,
        "input_scorers": [],
        "dependent_composite_count": 0,
    }


async def _one(session: Session, principal: Principal, row: ScorerRow) -> dict[str, Any]:
    current = await store.current_versions(session=session, scorers=[row])
    return scorer_json(row, current[row.id], principal.project_number or 0)


@router.post("", status_code=201, openapi_extra=scopes_doc("evaluation:write"))
async def create_scorer(body: ScorerCreate, session: SessionDep, principal: Write) -> dict[str, Any]:
    """Create a scorer and its version 1."""
    row, _ = await service.create_scorer(
        session=session,
        environment_id=principal.environment_id,
        created_by_id=principal.key_id,
        fields=body.model_dump(),
    )
    return await _one(session, principal, row)


@router.get("", openapi_extra=scopes_doc("evaluation:read"))
async def list_scorers(
    request: Request,
    session: SessionDep,
    principal: Read,
    page: Annotated[PageParams, Depends(page_params)],
    search: str | None = None,
    kind: Literal["boolean", "numeric", "categorical"] | None = None,
    archived: str | None = None,
    order_by: str | None = None,
    tags: Annotated[str | None, Query(description="A JSON list of tag names.")] = None,
    tag_match: Literal["any", "all"] = "any",
    calculation: Literal["reported", "composite"] | None = None,
    input_definition_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """One page of scorers (active unless `archived=true`); there are no composite scorers."""
    if order_by is not None and order_by not in SCORER_ORDERINGS:
        raise ValidationFailed("Unsupported order.", attr="order_by", code="invalid_choice")
    if calculation == "composite" or input_definition_id is not None:
        return make_page(request, page, 0, [])
    count, rows = await store.list_scorers(
        session=session,
        environment_id=principal.environment_id,
        limit=page.limit,
        offset=page.offset,
        search=search or None,
        kind=kind,
        archived=parse_bool_param(archived, "archived"),
        order_by=order_by,
        tags=parse_tags_param(tags),
        all_tags=tag_match == "all",
    )
    current = await store.current_versions(session=session, scorers=rows)
    team = principal.project_number or 0
    return make_page(request, page, count, [scorer_json(r, current[r.id], team) for r in rows])


@router.get("/{id}", openapi_extra=scopes_doc("evaluation:read"))
async def retrieve_scorer(id: str, session: SessionDep, principal: Read) -> dict[str, Any]:
    """One scorer with its current version."""
    row = await store.get_scorer(
        session=session, environment_id=principal.environment_id, scorer_id=parse_object_id(id)
    )
    return await _one(session, principal, row)


@router.patch("/{id}", openapi_extra=scopes_doc("evaluation:write"))
async def update_scorer(id: str, body: ScorerUpdate, session: SessionDep, principal: Write) -> dict[str, Any]:
    """Change name, description, archived or tags; no version is made."""
    row = await service.update_scorer(
        session=session,
        environment_id=principal.environment_id,
        scorer_id=parse_object_id(id),
        fields={name: getattr(body, name) for name in body.model_fields_set},
    )
    return await _one(session, principal, row)


@router.post("/{id}/new_version", openapi_extra=scopes_doc("evaluation:write"))
async def new_version(id: str, body: ScorerVersionCreate, session: SessionDep, principal: Write) -> dict[str, Any]:
    """Add an immutable version (its configuration); `base_version` guards against concurrent writes."""
    row = await service.add_version(
        session=session,
        environment_id=principal.environment_id,
        scorer_id=parse_object_id(id),
        fields={name: getattr(body, name) for name in body.model_fields_set},
        created_by_id=principal.key_id,
    )
    return await _one(session, principal, row)


@router.get("/{id}/versions", openapi_extra=scopes_doc("evaluation:read"))
async def list_versions(
    id: str,
    session: SessionDep,
    principal: Read,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The scorer's versions, newest first; `next_cursor` continues."""
    row = await store.get_scorer(
        session=session, environment_id=principal.environment_id, scorer_id=parse_object_id(id)
    )
    offset = int(cursor) if cursor and cursor.isdigit() else 0
    count, versions = await store.list_versions(session=session, scorer_id=row.id, limit=limit, offset=offset)
    more = offset + len(versions) < count
    return {
        "count": count,
        "results": [version_json(v) for v in versions],
        "next_cursor": str(offset + len(versions)) if more else None,
    }


@router.get("/{id}/versions/{version_id}", openapi_extra=scopes_doc("evaluation:read"))
async def retrieve_version(id: str, version_id: str, session: SessionDep, principal: Read) -> dict[str, Any]:
    """One version of the scorer."""
    row = await store.get_scorer(
        session=session, environment_id=principal.environment_id, scorer_id=parse_object_id(id)
    )
    version = await store.get_version(session=session, scorer_id=row.id, version_id=parse_object_id(version_id))
    return version_json(version)
