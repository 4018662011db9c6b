"""`/api/environments/{environment_id}/evaluations`: evaluator definitions; no hard delete.

Assay extensions: `target` and `idle_seconds` (trace- and session-level evaluation; present only when not the
default), `warnings` (present only when not empty) says why an evaluation will not run online as
one might expect, e.g. enabled without conditions (PostHog's scheduler never runs those; we keep that
meaning and say so); `GET …/{id}/stats` counts the evaluation's runs over the last `hours` (default 24).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, field_validator, model_serializer

from assay.api.deps import Principal, SessionDep, environment_access
from assay.api.llm_analytics.common import (
    ERROR_RESPONSES,
    UserBasic,
    WriteModel,
    not_blank,
    not_null_or_blank,
    parse_bool_param,
    parse_id_list,
    parse_object_id,
    parse_ordering,
    scopes_doc,
    user_basic,
)
from assay.api.llm_analytics.datasets import HARD_DELETE_DOC
from assay.api.pagination import Page, PageParams, make_page, page_params
from assay.domain.evaluator_config import evaluator_warnings
from assay.domain.providers import Provider
from assay.services import evaluations as evaluations_service
from assay.services.evaluations import ModelConfigurationInput
from assay.storage import evaluation_runs as run_store
from assay.storage import evaluators as store
from assay.storage.evaluators import EVALUATOR_ORDERINGS
from assay.storage.tables import EvaluatorRow

router = APIRouter(
    prefix="/api/environments/{environment_id}/evaluations", tags=["evaluations"], responses=ERROR_RESPONSES
)
Access = Annotated[Principal, Depends(environment_access("evaluation"))]


class ModelConfigurationWrite(WriteModel):
    provider: Provider
    model: str = Field(max_length=100)
    provider_key_id: uuid.UUID | None = None

    _model_not_blank = field_validator("model")(not_blank)


class ModelConfigurationPublic(BaseModel):
    provider: str
    model: str
    provider_key_id: str | None
    provider_key_name: str | None


class EvaluationFields(WriteModel):
    description: str = Field(default="", description="What the evaluation checks.")
    enabled: bool = Field(
        default=False, description="Whether the evaluation runs automatically on new $ai_generation events."
    )
    evaluation_config: dict[str, Any] = Field(
        default_factory=dict,
        description="For llm_judge: {'prompt': '...'}. For hog: {'source': '...'}. "
        "For python: {'source': 'def evaluate(input, output, **kwargs): ...', 'threshold': 0.5, 'scale': 1}.",
    )
    output_config: dict[str, Any] = Field(
        default_factory=dict, description="e.g. {'allows_na': true} to allow N/A results."
    )
    conditions: list[Any] = Field(default_factory=list, description="OR between condition sets, AND within each.")
    target: Literal["$ai_generation", "$ai_trace", "$ai_session"] = Field(
        default="$ai_generation",
        description="Assay extension: what an online run evaluates. `$ai_generation`: each matching generation; "
        "`$ai_trace`: each whole trace (events sharing `$ai_trace_id`) with an event matching the conditions, once "
        "the trace has been idle for `idle_seconds`; `$ai_session`: the same per `$ai_session_id`.",
    )
    idle_seconds: float | None = Field(
        default=None,
        gt=0,
        le=7 * 24 * 3600,
        description="Assay extension, for `$ai_trace` and `$ai_session` targets: seconds without a new event of the "
        "trace before it is evaluated (null: the server's ASSAY_ONLINE_TRACE_IDLE_SECONDS).",
    )
    model_configuration: ModelConfigurationWrite | None = None
    deleted: bool = Field(default=False, description="Set to true to soft-delete the evaluation.")


class EvaluationWrite(EvaluationFields):
    name: str = Field(max_length=400)
    evaluation_type: Literal["llm_judge", "hog", "python"] = Field(
        description="'llm_judge' uses an LLM to score outputs against a prompt; 'hog' runs deterministic Hog code; "
        "'python' (an Assay extension) runs Python code in the server's sandbox (docs/python-evaluators.md)."
    )
    output_type: Literal["boolean"] = Field(description="Currently only 'boolean' is supported.")

    _name_not_blank = field_validator("name")(not_blank)


class EvaluationPatch(EvaluationFields):
    name: str | None = Field(default=None, max_length=400)
    evaluation_type: Literal["llm_judge", "hog", "python"] | None = None
    output_type: Literal["boolean"] | None = None

    _not_null = field_validator("name", "evaluation_type", "output_type", mode="before")(
        lambda v: not_null_or_blank(v) if v is None or isinstance(v, str) else v
    )


class EvaluationPublic(BaseModel):
    id: str
    name: str
    description: str
    enabled: bool
    evaluation_type: str
    evaluation_config: dict[str, Any]
    output_type: str
    output_config: dict[str, Any]
    conditions: list[Any]
    model_configuration: ModelConfigurationPublic | None
    created_at: datetime
    updated_at: datetime | None
    created_by: UserBasic | None
    deleted: bool
    target: str = Field(
        default="$ai_generation",
        description="Assay extension, present only for `$ai_trace` and `$ai_session` targets: what an online run "
        "evaluates.",
    )
    idle_seconds: float | None = Field(
        default=None, description="Assay extension, present only when set: the trace's idle time before evaluation."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Assay extension, present only when not empty: why the evaluation will not run online as "
        "expected (e.g. enabled without conditions: it never runs).",
    )

    @model_serializer(mode="wrap")
    def _omit_empty_extensions(self, handler: SerializerFunctionWrapHandler):  # noqa: ANN202
        # no return annotation: pydantic would document the annotation instead of this model's fields
        data: dict[str, Any] = handler(self)
        if not data.get("warnings"):
            data.pop("warnings", None)
        if data.get("target") == "$ai_generation":
            data.pop("target", None)
        if data.get("idle_seconds") is None:
            data.pop("idle_seconds", None)
        return data


class EvaluationStats(BaseModel):
    """How the evaluation's runs created in the window ended (an Assay extension).

    `runs_count`, `applicable_count`, `pass_count`, `pass_rate` and `applicability_rate` mean what PostHog's
    evaluations page computes from `$ai_evaluation` events: runs that produced one.
    """

    evaluation_id: str
    hours: int
    since: datetime
    total_count: int = Field(description="Every run created in the window, whatever its state.")
    runs_count: int = Field(description="Completed runs, each of which stored an `$ai_evaluation` event.")
    applicable_count: int = Field(description="Completed runs with a verdict (not N/A).")
    pass_count: int = Field(description="Completed runs with verdict true.")
    fail_count: int = Field(description="Completed runs with verdict false.")
    na_count: int = Field(description="Completed runs judged not applicable.")
    error_count: int = Field(description="Runs that failed (no event): provider errors after retries, Hog errors.")
    skipped_count: int = Field(description="Runs skipped (no event): no judge, key or parse problems.")
    pending_count: int = Field(description="Runs queued, running or waiting to be retried.")
    retried_count: int = Field(description="Runs that needed more than one attempt.")
    pass_rate: float | None = Field(description="pass_count / applicable_count in percent (null without any).")
    applicability_rate: float | None = Field(description="applicable_count / runs_count in percent.")


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def to_public(row: EvaluatorRow) -> EvaluationPublic:
    config = row.model_configuration
    model_configuration = None
    if config is not None:
        model_configuration = ModelConfigurationPublic(
            provider=config.provider,
            model=config.model,
            provider_key_id=str(config.provider_key_id) if config.provider_key_id else None,
            provider_key_name=config.provider_key.name if config.provider_key else None,
        )
    return EvaluationPublic(
        id=str(row.id),
        name=row.name,
        description=row.description,
        enabled=row.enabled,
        evaluation_type=row.evaluation_type,
        evaluation_config=row.evaluation_config,
        output_type=row.output_type,
        output_config=row.output_config,
        conditions=row.conditions,
        target=row.target or "$ai_generation",
        idle_seconds=row.idle_seconds,
        model_configuration=model_configuration,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=user_basic(row.created_by),
        deleted=row.deleted,
        warnings=evaluator_warnings(enabled=row.enabled, deleted=row.deleted, conditions=row.conditions or []),
    )


async def _save(
    body: EvaluationFields, row: EvaluatorRow, session: SessionDep, principal: Principal, *, full: bool
) -> EvaluatorRow:
    """Save the given fields (all of them when `full`) through the evaluations service, which commits."""
    given = set(type(body).model_fields) if full else set(body.model_fields_set)
    fields = {name: getattr(body, name) for name in given if name != "model_configuration"}
    config = body.model_configuration if "model_configuration" in given else None
    return await evaluations_service.save_evaluation(
        session=session,
        environment_id=principal.environment_id,
        row=row,
        fields=fields,
        model_configuration=None
        if config is None
        else ModelConfigurationInput(
            provider=config.provider, model=config.model, provider_key_id=config.provider_key_id
        ),
    )


@router.get("", openapi_extra=scopes_doc("evaluation:read"))
async def list_evaluations(
    request: Request,
    session: SessionDep,
    principal: Access,
    page: Annotated[PageParams, Depends(page_params)],
    enabled: Annotated[str | None, Query(description="true or false.")] = None,
    id__in: Annotated[list[str] | None, Query(description="Comma-separated evaluation ids.")] = None,
    order_by: Annotated[
        list[str] | None, Query(description="created_at, updated_at or name, optionally prefixed with -.")
    ] = None,
    search: Annotated[str | None, Query(description="Case-insensitive match on name and description.")] = None,
) -> Page[EvaluationPublic]:
    """List the environment's evaluations, newest first."""
    count, rows = await store.list_evaluators(
        session=session,
        environment_id=principal.environment_id,
        limit=page.limit,
        offset=page.offset,
        search=search or None,
        enabled=parse_bool_param(enabled, "enabled"),
        ids=parse_id_list(id__in),
        order_by=parse_ordering(order_by, EVALUATOR_ORDERINGS),
    )
    return make_page(request, page, count, [to_public(r) for r in rows])  # type: ignore[return-value]


@router.post("", status_code=201, openapi_extra=scopes_doc("evaluation:write"))
async def create_evaluation(body: EvaluationWrite, session: SessionDep, principal: Access) -> EvaluationPublic:
    """Create an evaluation."""
    row = EvaluatorRow(environment_id=principal.environment_id, created_by_id=principal.key_id)
    for name in (
        "description",
        "enabled",
        "evaluation_config",
        "output_config",
        "conditions",
        "target",
        "idle_seconds",
        "deleted",
    ):
        setattr(row, name, getattr(body, name))
    row = await _save(body, row, session, principal, full=False)
    return to_public(row)


@router.get("/{id}", openapi_extra=scopes_doc("evaluation:read"))
async def retrieve_evaluation(id: str, session: SessionDep, principal: Access) -> EvaluationPublic:
    """Retrieve one evaluation (soft-deleted evaluations are not found)."""
    row = await store.get_evaluator(
        session=session, environment_id=principal.environment_id, evaluator_id=parse_object_id(id)
    )
    return to_public(row)


@router.get("/{id}/stats", openapi_extra=scopes_doc("evaluation:read"))
async def evaluation_stats(
    id: str,
    session: SessionDep,
    principal: Access,
    hours: Annotated[int, Query(ge=1, le=24 * 90, description="The window: runs created in the last N hours.")] = 24,
) -> EvaluationStats:
    """Count the evaluation's runs of the last `hours` by outcome (an Assay extension)."""
    row = await store.get_evaluator(
        session=session, environment_id=principal.environment_id, evaluator_id=parse_object_id(id)
    )
    since = datetime.now(UTC) - timedelta(hours=hours)
    counts = await run_store.run_counts(
        session=session, environment_id=principal.environment_id, evaluator_id=row.id, since=since
    )
    completed = counts.passed + counts.failed + counts.not_applicable
    applicable = counts.passed + counts.failed
    return EvaluationStats(
        evaluation_id=str(row.id),
        hours=hours,
        since=since,
        total_count=counts.total,
        runs_count=completed,
        applicable_count=applicable,
        pass_count=counts.passed,
        fail_count=counts.failed,
        na_count=counts.not_applicable,
        error_count=counts.errors,
        skipped_count=counts.skipped,
        pending_count=counts.pending,
        retried_count=counts.retried,
        pass_rate=_percent(counts.passed, applicable),
        applicability_rate=_percent(applicable, completed),
    )


@router.patch("/{id}", openapi_extra=scopes_doc("evaluation:write"))
async def update_evaluation(id: str, body: EvaluationPatch, session: SessionDep, principal: Access) -> EvaluationPublic:
    """Update some fields; `model_configuration: null` leaves the model configuration as it is."""
    row = await store.get_evaluator(
        session=session, environment_id=principal.environment_id, evaluator_id=parse_object_id(id), include_deleted=True
    )
    row = await _save(body, row, session, principal, full=False)
    return to_public(row)


@router.put("/{id}", openapi_extra=scopes_doc("evaluation:write"))
async def replace_evaluation(
    id: str, body: EvaluationWrite, session: SessionDep, principal: Access
) -> EvaluationPublic:
    """Replace the evaluation's writable fields."""
    row = await store.get_evaluator(
        session=session, environment_id=principal.environment_id, evaluator_id=parse_object_id(id), include_deleted=True
    )
    row = await _save(body, row, session, principal, full=True)
    return to_public(row)


@router.delete("/{id}", status_code=405, description=HARD_DELETE_DOC, openapi_extra=scopes_doc("evaluation:write"))
async def delete_evaluation(id: str, principal: Access) -> Response:
    """Hard delete is not allowed."""
    return Response(status_code=405)
