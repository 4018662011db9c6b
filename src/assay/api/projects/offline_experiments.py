"""`/api/projects/{project_id}/ai_observability/offline_experiments`: offline experiments from
`posthog.ai.evaluations` (create, upload, complete, fail, tags), each stored as a run of Assay's.

Creating, uploading and closing take `offline_evaluation_ingestion:write` (or `evaluation:write`); reading the
tags `evaluation:read`, changing them `evaluation:write`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import Field, field_validator

from assay.api.deps import Principal, SessionDep, project_access
from assay.api.llm_analytics.common import WriteModel, parse_object_id, scopes_doc
from assay.api.projects.wire import PROJECT_RESPONSES
from assay.errors import ValidationFailed
from assay.services import offline_experiments as service
from assay.services.offline_experiments import Receipt
from assay.storage.db import Session
from assay.storage.experiment_tables import OfflineExperimentRow

router = APIRouter(
    prefix="/api/projects/{project_id}/ai_observability/offline_experiments",
    tags=["projects: offline experiments"],
    responses=PROJECT_RESPONSES,
)
INGEST = "offline_evaluation_ingestion:write"
Ingest = Annotated[Principal, Depends(project_access(INGEST))]
Read = Annotated[Principal, Depends(project_access("evaluation:read"))]
Write = Annotated[Principal, Depends(project_access("evaluation:write"))]
Text = Annotated[str, Field(min_length=1, max_length=255)]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give the time with a timezone")
    return value.astimezone(UTC)


class ExperimentCreate(WriteModel):
    id: uuid.UUID
    name: str = Field(min_length=1, max_length=400)
    started_at: datetime
    run_source: Literal["ci", "local", "scheduled"] | None = None
    expected_item_count: Count | None = None
    expected_result_count: Count | None = None
    suite_key: Text | None = None
    dataset_source: Text | None = None
    dataset_identifier: Text | None = None
    dataset_revision_identifier: Text | None = None
    dataset_revision_id: uuid.UUID | None = None
    application_version: Text | None = None
    model_version: Text | None = None
    prompt_version: Text | None = None

    _started = field_validator("started_at")(_utc)


class ItemDeclaration(WriteModel):
    id: uuid.UUID
    case_key: Text | None = None
    trial: Text | None = None
    dataset_item_identifier: Text | None = None
    dataset_item_version_identifier: Text | None = None
    dataset_item_version_id: uuid.UUID | None = None
    application_trace_id: Text | None = None
    model_version: Text | None = None
    payload: dict[str, Any] | None = None


class ResultDeclaration(WriteModel):
    item_id: uuid.UUID
    scorer_version_id: uuid.UUID
    calculate: bool = False
    status: Literal["ok", "error", "skipped", "not_applicable"] = "ok"
    value: Any = None
    error_code: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    evaluator_trace_id: Text | None = None
    evaluated_at: datetime | None = None
    payload: dict[str, Any] | None = None


class Upload(WriteModel):
    items: list[ItemDeclaration] = Field(default_factory=list, max_length=service.MAX_ITEMS)
    results: list[ResultDeclaration] = Field(default_factory=list, max_length=service.MAX_RESULTS)


class TagsBody(WriteModel):
    tags: list[Annotated[str, Field(max_length=255)]] = Field(max_length=100)


async def experiment_json(session: Session, row: OfflineExperimentRow, *, created: bool = False) -> dict[str, Any]:
    """An experiment as the SDK's receipt reads it, with its tags and the run and suite it is stored as."""
    items, results = await service.accepted_counts(session=session, experiment_id=row.id)
    return {
        "id": str(row.id),
        "name": row.name,
        "status": row.status,
        "created": created,
        "started_at": row.started_at.isoformat(),
        "created_at": row.created_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "expected_item_count": row.expected_item_count,
        "expected_result_count": row.expected_result_count,
        "accepted_item_count": items,
        "accepted_result_count": results,
        "tags": list(row.tags or []),
        "run_id": str(row.run_id),
        "suite_id": str(row.suite_id),
    }


def _receipt(r: Receipt) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(r.id), "created": r.created, "accepted_at": r.accepted_at.isoformat()}
    if r.item_id is not None:
        data.update(
            item_id=str(r.item_id),
            scorer_version_id=str(r.scorer_version_id),
            status=r.status,
            error_code=r.error_code,
        )
    return data


@router.post(
    "",
    status_code=201,
    openapi_extra=scopes_doc(INGEST),
    responses={200: {"description": "The same declaration again: the existing experiment, `created` false"}},
)
async def create_experiment(
    body: ExperimentCreate, response: Response, session: SessionDep, principal: Ingest
) -> dict[str, Any]:
    """Create an experiment (its suite and its run); the same declaration again answers 200 with `created` false."""
    submission = body.model_dump(mode="json", exclude_unset=True)
    submission["started_at"] = body.started_at.isoformat()
    row, created = await service.create_experiment(
        session=session,
        environment_id=principal.environment_id,
        started_by=str(principal.key_id),
        submission=submission,
    )
    if not created:
        response.status_code = 200
    return await experiment_json(session, row, created=created)


@router.get("/{id}", openapi_extra=scopes_doc("evaluation:read"))
async def retrieve_experiment(id: str, session: SessionDep, principal: Read) -> dict[str, Any]:
    """The experiment: status, counts, tags, its run."""
    row = await service.get_experiment(
        session=session, environment_id=principal.environment_id, experiment_id=parse_object_id(id)
    )
    return await experiment_json(session, row)


@router.patch("/{id}", openapi_extra=scopes_doc("evaluation:write"))
async def update_tags(id: str, body: TagsBody, session: SessionDep, principal: Write) -> dict[str, Any]:
    """Replace the experiment's tags (also after it closed)."""
    row = await service.set_tags(
        session=session, environment_id=principal.environment_id, experiment_id=parse_object_id(id), tags=body.tags
    )
    return await experiment_json(session, row)


@router.post("/{id}/upload", openapi_extra=scopes_doc(INGEST))
async def upload(id: str, body: Upload, session: SessionDep, principal: Ingest) -> dict[str, Any]:
    """Accept items and their scorer results, all or nothing; replays are acknowledged with `created` false."""
    items = []
    for item in body.items:
        data = item.model_dump(mode="json", exclude_unset=True)
        items.append({**data, "id": item.id})
    results = []
    for result in body.results:
        if result.status != "ok" and "value" in result.model_fields_set and result.value is not None:
            raise ValidationFailed("Only an ok result has a value.", attr="value")
        data = result.model_dump(mode="json", exclude_unset=True)
        results.append({**data, "item_id": result.item_id, "scorer_version_id": result.scorer_version_id})
    item_receipts, result_receipts = await service.upload(
        session=session,
        environment_id=principal.environment_id,
        experiment_id=parse_object_id(id),
        items=items,
        results=results,
    )
    return {"items": [_receipt(r) for r in item_receipts], "results": [_receipt(r) for r in result_receipts]}


@router.post("/{id}/complete", openapi_extra=scopes_doc(INGEST))
async def complete(id: str, session: SessionDep, principal: Ingest) -> dict[str, Any]:
    """Close the experiment as completed (its declared counts must match): its run completes."""
    row = await service.close(
        session=session, environment_id=principal.environment_id, experiment_id=parse_object_id(id), action="complete"
    )
    return await experiment_json(session, row)


@router.post("/{id}/fail", openapi_extra=scopes_doc(INGEST))
async def fail(id: str, session: SessionDep, principal: Ingest) -> dict[str, Any]:
    """Close the experiment as failed, keeping what was accepted: its run fails."""
    row = await service.close(
        session=session, environment_id=principal.environment_id, experiment_id=parse_object_id(id), action="fail"
    )
    return await experiment_json(session, row)
