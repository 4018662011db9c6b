"""`/api/environments/{environment_id}/evaluation_runs`: run an evaluation on one event by hand (§4.1).

`POST` validates the body (400 `{"error": {field: [messages]}}`), finds the evaluation (404 when missing or
deleted; `enabled` and the conditions are ignored) and the event (404 unless the uuid, the event name, the
UTC date of `timestamp` and, when given, `distinct_id` all match), queues a manual run and answers 202.
The result arrives later as a `$ai_evaluation` event. `GET …/{workflow_id}` (ours) shows the run's state.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from assay.api.deps import Principal, SessionDep, environment_access
from assay.api.errors import drf_response
from assay.api.llm_analytics.common import ERROR_RESPONSES, scopes_doc
from assay.api.llm_analytics.test_hog import _field_errors as drf_field_errors
from assay.domain.ai_events import GENERATION
from assay.errors import NotFoundError
from assay.storage import events as event_store
from assay.storage import online as store
from assay.storage.tables import EvaluatorRow

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


class EvaluationRunPublic(BaseModel):
    """A run: `queued`, `running`, `completed`, `failed` or `skipped`; `result` once it ended."""

    workflow_id: str
    status: str
    evaluation_id: str
    target_event_id: str
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


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
        return _error(400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."
                                                 if isinstance(raw, list) else "Invalid data."]})  # fmt: skip
    try:
        body = EvaluationRunRequest.model_validate(raw)
    except ValidationError as e:
        return _error(400, _errors(e))
    env_id = principal.environment_id
    evaluator = await session.get(EvaluatorRow, body.evaluation_id)
    if evaluator is None or evaluator.environment_id != env_id or evaluator.deleted:
        return _error(404, f"Evaluation {body.evaluation_id} not found")
    target = await event_store.get_event(session=session, environment_id=env_id, event_uuid=body.target_event_id)
    when = body.timestamp if body.timestamp.tzinfo else body.timestamp.replace(tzinfo=UTC)
    if (
        target is None
        or target.event != body.event
        or target.timestamp.astimezone(UTC).date() != when.astimezone(UTC).date()
        or (body.distinct_id is not None and target.distinct_id != body.distinct_id)
    ):
        return _error(404, f"Event {body.target_event_id} not found")
    workflow_id = f"{body.evaluation_id}-{body.target_event_id}-manual-{int(time.time() * 1000)}"
    await store.create_manual_run(
        session=session, workflow_id=workflow_id, environment_id=env_id, evaluator_id=evaluator.id, event=target
    )
    await session.commit()
    online = getattr(request.app.state, "online", None)
    if online is not None:
        online.notify()
    started = EvaluationRunStarted(
        workflow_id=workflow_id,
        status="started",
        evaluation=EvaluationRef(id=str(evaluator.id), name=evaluator.name),
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
        raise NotFoundError("Not found.")
    return EvaluationRunPublic(
        workflow_id=row.workflow_id,
        status=row.status,
        evaluation_id=str(row.evaluator_id),
        target_event_id=str(row.event_uuid),
        result=row.result,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


router.add_api_route("/", start_evaluation_run, methods=["POST"], status_code=202, include_in_schema=False)
