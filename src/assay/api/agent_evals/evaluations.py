"""`/v1/evaluations`: suites of test cases run against an agent instance."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from assay.api.deps import Principal, SessionDep, tenant_access
from assay.api.safe_json import check_storable
from assay.storage import suite_links
from assay.storage import suites as store
from assay.storage.tables import SuiteRow

router = APIRouter(prefix="/v1/evaluations", tags=["Evaluations"])
Read = Annotated[Principal, Depends(tenant_access("evaluation"))]


class EvaluationCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    _storable = field_validator("*", mode="before")(check_storable)

    name: str = Field(max_length=200, min_length=1)
    description: str | None = None
    instance_id: uuid.UUID | None = None
    recipe_id: uuid.UUID | None = None
    config: dict[str, Any] = Field(default_factory=dict)


def _not_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null", "This field may not be null.")
    return value


class EvaluationUpdate(BaseModel):
    """PATCH: only the fields sent change; `instance_id` / `recipe_id` null detach them."""

    model_config = ConfigDict(extra="ignore")

    _storable = field_validator("*", mode="before")(check_storable)
    _no_null = field_validator("name", "config", mode="before")(_not_null)

    name: str | None = Field(default=None, max_length=200, min_length=1)
    description: str | None = None
    instance_id: uuid.UUID | None = None
    recipe_id: uuid.UUID | None = None
    config: dict[str, Any] | None = None


async def _check_links(session: SessionDep, environment_id: uuid.UUID, fields: dict[str, Any]) -> None:
    """A 422 on `instance_id` / `recipe_id` when they name nothing in the environment."""
    missing = await suite_links.missing_links(
        session=session,
        environment_id=environment_id,
        instance_id=fields.get("instance_id"),
        recipe_id=fields.get("recipe_id"),
    )
    if missing:
        raise RequestValidationError(
            [
                {
                    "loc": ["body", name],
                    "msg": f"{name.removesuffix('_id').title()} not found",
                    "type": "does_not_exist",
                }
                for name in missing
            ]
        )


class EvaluationResponse(BaseModel):
    config: dict[str, Any]
    created_at: datetime
    description: str | None
    id: uuid.UUID
    instance_id: uuid.UUID | None
    name: str
    recipe_id: uuid.UUID | None
    results_summary: dict[str, Any]
    status: str
    tenant_id: uuid.UUID
    updated_at: datetime | None


def to_response(row: SuiteRow) -> EvaluationResponse:
    return EvaluationResponse(
        config=row.config,
        created_at=row.created_at,
        description=row.description,
        id=row.id,
        instance_id=row.instance_id,
        name=row.name,
        recipe_id=row.recipe_id,
        results_summary=row.results_summary,
        status=row.status,
        tenant_id=row.environment_id,
        updated_at=row.updated_at,
    )


@router.get("")
async def list_evaluations(session: SessionDep, principal: Read) -> list[EvaluationResponse]:
    """List Evaluations"""
    return [to_response(r) for r in await store.list_suites(session=session, environment_id=principal.environment_id)]


@router.post("", status_code=201)
async def create_evaluation(body: EvaluationCreate, session: SessionDep, principal: Read) -> EvaluationResponse:
    """Create Evaluation"""
    await _check_links(session, principal.environment_id, body.model_dump(include={"instance_id", "recipe_id"}))
    row = await store.create_suite(session=session, environment_id=principal.environment_id, fields=body.model_dump())
    await session.commit()
    return to_response(row)


@router.get("/{evaluation_id}")
async def get_evaluation(evaluation_id: uuid.UUID, session: SessionDep, principal: Read) -> EvaluationResponse:
    """Get Evaluation"""
    row = await store.get_suite(session=session, environment_id=principal.environment_id, suite_id=evaluation_id)
    return to_response(row)


@router.patch("/{evaluation_id}")
async def update_evaluation(
    evaluation_id: uuid.UUID, body: EvaluationUpdate, session: SessionDep, principal: Read
) -> EvaluationResponse:
    """Update Evaluation (name, description, instance_id, recipe_id, config)"""
    row = await store.get_suite(session=session, environment_id=principal.environment_id, suite_id=evaluation_id)
    fields = {name: getattr(body, name) for name in body.model_fields_set}
    await _check_links(session, principal.environment_id, fields)
    row = await store.update_suite(session=session, row=row, fields=fields)
    await session.commit()
    return to_response(row)


@router.delete("/{evaluation_id}", status_code=204, response_class=Response)
async def delete_evaluation(evaluation_id: uuid.UUID, session: SessionDep, principal: Read) -> Response:
    """Delete Evaluation (with its test cases and results)"""
    row = await store.get_suite(session=session, environment_id=principal.environment_id, suite_id=evaluation_id)
    await store.delete_suite(session=session, row=row)
    await session.commit()
    return Response(status_code=204)
