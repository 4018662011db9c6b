"""`/api/environments/{environment_id}/evaluation_runs`: run an evaluation on one event by hand (§4.1).

`POST` validates the body (400 `{"error": {field: [messages]}}`), finds the evaluation (404 when missing or
deleted; `enabled` and the conditions are ignored) and the event (404 unless the uuid, the event name, the
UTC date of `timestamp` and, when given, `distinct_id` all match), queues a manual run and answers 202.
The result arrives later as a `$ai_evaluation` event. Ours: `GET …/{workflow_id}` shows the run's state, and
`GET …` lists runs newest first, filtered by `evaluation_id`, `status` and `source`, with keyset pagination
(`cursor`, `{next, results}`): `?status=failed,retrying&evaluation_id=…` finds what went wrong.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from assay.api.cursor_pagination import CursorPage, decode_cursor, next_link
from assay.api.deps import Principal, SessionDep, environment_access
from assay.api.errors import drf_response
from assay.api.ingest.notify import online_notifier
from assay.api.llm_analytics.common import ERROR_RESPONSES, scopes_doc
from assay.api.llm_analytics.test_hog import _field_errors as drf_field_errors
from assay.domain.ai_events import GENERATION
from assay.domain.trace_subject import KIND_TARGETS
from assay.errors import ResourceNotFound, ValidationFailed
from assay.ingest.decode import parse_datetime
from assay.services.evaluation_runs import start_evaluation_run as start_run
from assay.storage import evaluation_runs as run_store
from assay.storage import online as store
from assay.storage.online_tables import EvaluationRunRow

router = APIRouter(prefix="/api/environments/{environment_id}/evaluation_runs", tags=["evaluation runs"])
Access = Annotated[Principal, Depends(environment_access("evaluation"))]

_UUID_MESSAGE = "Must be a valid UUID."
_DATETIME_MESSAGE = (
    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)


class EvaluationRunRequest(BaseModel):
    """Which evaluation to run on which event (`timestamp`: any time on the event's UTC date)."""

    evaluation_id: uuid.UUID
    target_event_id: uuid.UUID
    timestamp: datetime
    event: str = GENERATION
    distinct_id: str | None = None


class EvaluationRef(BaseModel):
    id: str
    name: str


class EvaluationRunStarted(BaseModel):
    workflow_id: str
    status: str
    evaluation: EvaluationRef
    target_event_id: str


RunStatus = Literal["queued", "running", "finishing", "retrying", "completed", "failed", "skipped"]


class EvaluationRunPublic(BaseModel):
    """A run and, once it ended, its `result` (completed, skipped) or `error` (failed, skipped)."""

    workflow_id: str
    status: RunStatus
    """`queued`, `running`, `retrying` (an attempt failed; the next starts at `next_attempt_at`), `completed`
    (an `$ai_evaluation` event was stored), `failed` or `skipped` (no event)."""
    source: Literal["online", "manual"]
    evaluation_id: str
    target_event_id: str
    target_type: Literal["$ai_generation", "$ai_trace", "$ai_session"] = "$ai_generation"
    """What the run evaluates: the target event alone, or the whole trace or session (then `target_id` names it
    and `target_event_id` is its latest event, or the `$ai_trace` event of a manual run)."""
    target_id: str | None = None
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    """Attempts started so far."""
    next_attempt_at: datetime | None
    last_error: str | None
    """Why the latest failed attempt failed (kept when a retry then succeeds)."""
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def to_public(row: EvaluationRunRow) -> EvaluationRunPublic:
    return EvaluationRunPublic(
        workflow_id=row.workflow_id,
        status=row.status,  # type: ignore[arg-type]
        source=row.source,  # type: ignore[arg-type]
        evaluation_id=str(row.evaluator_id),
        target_event_id=str(row.event_uuid),
        target_type=KIND_TARGETS.get(row.target_kind, GENERATION) if row.target_kind else GENERATION,
        target_id=row.target_key,
        result=row.result,
        error=row.error,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    errors = drf_field_errors(exc)
    for err in exc.errors():
        field = str(err["loc"][0]) if err.get("loc") else "non_field_errors"
        if err["type"] == "missing" or err.get("input") is None:
            continue
        if field in ("evaluation_id", "target_event_id"):
            errors[field] = [_UUID_MESSAGE]
        elif field == "timestamp":
            errors[field] = [_DATETIME_MESSAGE]
    return errors


def _error(status: int, error: Any) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status)


_POST_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": EvaluationRunRequest.model_json_schema()}},
    },
    **scopes_doc("evaluation:write"),
}


@router.post(
    "",
    status_code=202,
    openapi_extra=_POST_DOC,
    response_class=JSONResponse,
    responses={
        **ERROR_RESPONSES,
        202: {"model": EvaluationRunStarted, "description": "The run is queued."},
        400: {"description": '`{"error": {field: [messages]}}`.'},
        404: {"description": '`{"error": "Evaluation <id> not found"}` or `{"error": "Event <id> not found"}`.'},
    },
)
async def start_evaluation_run(request: Request, session: SessionDep, principal: Access) -> JSONResponse:
    """Run an evaluation on one event now, whatever its `enabled` flag and conditions."""
    try:
        raw = orjson.loads(await request.body())
    except orjson.JSONDecodeError as e:
        return drf_response(400, "validation_error", "parse_error", f"JSON parse error - {e}")
    if not isinstance(raw, dict):
        return _error(
            400,
            {
                "non_field_errors": [
                    "Invalid data. Expected a dictionary, but got list." if isinstance(raw, list) else "Invalid data."
                ]
            },
        )
    try:
        body = EvaluationRunRequest.model_validate(raw)
    except ValidationError as e:
        return _error(400, _errors(e))
    try:
        run = await start_run(
            session=session,
            environment_id=principal.environment_id,
            evaluation_id=body.evaluation_id,
            target_event_id=body.target_event_id,
            timestamp=body.timestamp,
            event=body.event,
            distinct_id=body.distinct_id,
            notify=online_notifier(request.app),
        )
    except ResourceNotFound as e:
        return _error(404, e.message)
    started = EvaluationRunStarted(
        workflow_id=run.workflow_id,
        status="started",
        evaluation=EvaluationRef(id=str(run.evaluation_id), name=run.evaluation_name),
        target_event_id=str(body.target_event_id),
    )
    return JSONResponse(started.model_dump(), status_code=202)


@router.get(
    "/{workflow_id}",
    response_model=EvaluationRunPublic,
    openapi_extra=scopes_doc("evaluation:read"),
    responses=ERROR_RESPONSES,
)
async def get_evaluation_run(workflow_id: str, session: SessionDep, principal: Access) -> EvaluationRunPublic:
    """A run's state and, once it ended, its result or error."""
    row = await store.get_run(session=session, environment_id=principal.environment_id, workflow_id=workflow_id)
    if row is None:
        raise ResourceNotFound("Not found.")
    return to_public(row)


def _statuses(raw: list[str] | None) -> list[str] | None:
    values = [v.strip() for item in raw or [] for v in item.split(",") if v.strip()]
    unknown = sorted(set(values) - set(run_store.RUN_STATUSES))
    if unknown:
        raise ValidationFailed(
            f"Unknown status {unknown[0]!r}; one of: {', '.join(run_store.RUN_STATUSES)}.", attr="status"
        )
    return values or None


def _evaluation_id(raw: str | None) -> uuid.UUID | None:
    if raw is None or raw == "":
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValidationFailed(_UUID_MESSAGE, attr="evaluation_id") from None


def _position(cursor: str | None) -> run_store.RunKey | None:
    if cursor is None:
        return None
    created, workflow_id = decode_cursor(cursor, size=2)
    when = parse_datetime(created) if isinstance(created, str) else None
    if when is None or not isinstance(workflow_id, str):
        raise ValidationFailed("Invalid cursor.", attr="cursor")
    return when, workflow_id


@router.get("", openapi_extra=scopes_doc("evaluation:read"), responses=ERROR_RESPONSES)
async def list_evaluation_runs(
    request: Request,
    session: SessionDep,
    principal: Access,
    evaluation_id: Annotated[str | None, Query(description="Only runs of this evaluation.")] = None,
    status: Annotated[
        list[str] | None, Query(description="Comma-separated statuses, e.g. `failed,retrying,skipped`.")
    ] = None,
    source: Annotated[Literal["online", "manual"] | None, Query(description="`online` or `manual`.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Runs per page.")] = 100,
    cursor: Annotated[str | None, Query(description="The position from a previous page's `next`.")] = None,
) -> CursorPage[EvaluationRunPublic]:
    """List runs newest first (an Assay extension), one page at a time."""
    rows, more = await run_store.list_runs(
        session=session,
        environment_id=principal.environment_id,
        limit=limit,
        after=_position(cursor),
        evaluator_id=_evaluation_id(evaluation_id),
        statuses=_statuses(status),
        source=source,
    )
    last = [rows[-1].created_at.isoformat(), rows[-1].workflow_id] if more and rows else None
    return CursorPage(next=next_link(request, last), results=[to_public(r) for r in rows])
