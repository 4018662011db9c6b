"""Running suites: `run`, tasks (status, progress, cancel), results and score overrides."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from assay.api.deps import Principal, SessionDep, SettingsDep, tenant_access
from assay.api.safe_json import check_storable
from assay.errors import ResourceNotFound
from assay.services import runs as run_service
from assay.storage import runs as store
from assay.storage import suites as suite_store
from assay.storage.run_tables import ResultRow, RunRow
from assay.storage.types import utcnow

router = APIRouter(tags=["Evaluations"])
Access = Annotated[Principal, Depends(tenant_access("evaluation"))]


class RunResponse(BaseModel):
    status: str
    task_id: str


class TaskProgress(BaseModel):
    total: int
    completed: int
    errors: int


class TaskResponse(BaseModel):
    task_id: str
    evaluation_id: uuid.UUID
    status: str
    progress: TaskProgress
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    error: str | None
    summary: dict[str, Any]


class Override(BaseModel):
    score: float
    previous_score: float | None
    reason: str | None
    by: str
    at: datetime


class ResultResponse(BaseModel):
    agent_response: str | None
    created_at: datetime
    evaluation_id: uuid.UUID
    id: uuid.UUID
    latency_ms: int | None
    score: float | None
    score_reason: str | None
    status: str
    test_case_id: uuid.UUID
    tokens_used: int | None
    tool_calls_made: list[dict[str, Any]]
    task_id: str
    repetition: int
    judge_tokens: int
    evaluator_results: list[dict[str, Any]]
    error: str | None
    original_score: float | None
    overrides: list[Override]
    transcript: dict[str, Any] | None = Field(
        default=None,
        description="Assay extension: a conversation case's turns (each with latency, tokens and tool calls), "
        "its messages, the simulated user's transcript and metrics; null for a one-turn case.",
    )


class ScoreOverride(BaseModel):
    model_config = ConfigDict(extra="ignore")

    score: float = Field(ge=0, le=100, allow_inf_nan=False)
    score_reason: str | None = Field(default=None, max_length=10_000)

    _storable = field_validator("*", mode="before")(check_storable)


def task_response(row: RunRow) -> TaskResponse:
    end = row.finished_at or (utcnow() if row.started_at else None)
    duration = (end - row.started_at).total_seconds() if row.started_at and end else None
    return TaskResponse(
        task_id=str(row.id),
        evaluation_id=row.suite_id,
        status=row.status,
        progress=TaskProgress(total=row.total_cases, completed=row.completed_cases, errors=row.error_cases),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration_s=round(duration, 3) if duration is not None else None,
        error=row.error,
        summary=row.summary or {},
    )


def result_response(row: ResultRow) -> ResultResponse:
    return ResultResponse(
        agent_response=row.agent_response,
        created_at=row.created_at,
        evaluation_id=row.suite_id,
        id=row.id,
        latency_ms=round(row.latency_ms) if row.latency_ms is not None else None,
        score=row.score,
        score_reason=row.score_reason,
        status=row.status,
        test_case_id=row.test_case_id,
        tokens_used=row.tokens_used,
        tool_calls_made=row.tool_calls_made or [],
        task_id=str(row.run_id),
        repetition=row.repetition,
        judge_tokens=row.judge_tokens,
        evaluator_results=row.evaluator_results or [],
        error=row.error,
        original_score=row.original_score,
        overrides=[Override.model_validate(o) for o in row.overrides or []],
        transcript=row.transcript,
    )


@router.post("/v1/evaluations/{evaluation_id}/run")
async def run_evaluation(
    evaluation_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep, principal: Access
) -> RunResponse:
    """Run Evaluation: snapshot the suite and queue it; returns the task id at once."""
    dispatcher = getattr(request.app.state, "dispatcher", None)
    row = await run_service.start_run(
        session=session,
        environment_id=principal.environment_id,
        suite_id=evaluation_id,
        settings=settings,
        notify=dispatcher.notify if dispatcher is not None else None,
        started_by=str(principal.key_id),
    )
    return RunResponse(status=row.status, task_id=str(row.id))


@router.get("/v1/evaluations/{evaluation_id}/runs")
async def list_runs(evaluation_id: uuid.UUID, session: SessionDep, principal: Access) -> list[TaskResponse]:
    """List Runs of an evaluation, newest first."""
    suite = await suite_store.get_suite(
        session=session, environment_id=principal.environment_id, suite_id=evaluation_id
    )
    return [task_response(r) for r in await store.list_runs(session=session, suite_id=suite.id)]


@router.get("/v1/tasks/{task_id}")
async def get_task(task_id: uuid.UUID, session: SessionDep, principal: Access) -> TaskResponse:
    """Get Task: status, progress counts, timings, errors and summary."""
    return task_response(await store.get_run(session=session, environment_id=principal.environment_id, run_id=task_id))


@router.post("/v1/tasks/{task_id}/cancel")
async def cancel_task(task_id: uuid.UUID, session: SessionDep, principal: Access) -> TaskResponse:
    """Cancel Task: a queued task is cancelled at once, a running one stops after the cases in flight."""
    row = await run_service.cancel_run(session=session, environment_id=principal.environment_id, run_id=task_id)
    return task_response(row)


@router.get("/v1/evaluations/{evaluation_id}/results")
async def get_results(
    evaluation_id: uuid.UUID,
    session: SessionDep,
    principal: Access,
    task_id: Annotated[uuid.UUID | None, Query(description="A task of this evaluation; default: the latest.")] = None,
) -> list[ResultResponse]:
    """Get Results of the latest run (or of `task_id`)."""
    suite = await suite_store.get_suite(
        session=session, environment_id=principal.environment_id, suite_id=evaluation_id
    )
    if task_id is not None:
        run = await store.get_run(session=session, environment_id=principal.environment_id, run_id=task_id)
        if run.suite_id != suite.id:
            raise ResourceNotFound("Task not found")
    else:
        run = await store.latest_run(session=session, suite_id=suite.id)
        if run is None:
            return []
    return [result_response(r) for r in await store.list_results(session=session, run_id=run.id)]


@router.patch("/v1/evaluations/{evaluation_id}/results/{result_id}")
async def override_score(
    evaluation_id: uuid.UUID, result_id: uuid.UUID, body: ScoreOverride, session: SessionDep, principal: Access
) -> ResultResponse:
    """Override Score: a person sets the score (0-100); the original score and every change are kept."""
    row = await run_service.override_result(
        session=session,
        environment_id=principal.environment_id,
        suite_id=evaluation_id,
        result_id=result_id,
        score=body.score,
        reason=body.score_reason,
        by=str(principal.key_id),
    )
    return result_response(row)
