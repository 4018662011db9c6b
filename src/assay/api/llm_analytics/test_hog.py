"""`POST /api/environments/{environment_id}/evaluations/test_hog`: try Hog code on recent events.

As the original (behaviour reference §3.3): the latest `$ai_generation` events of the last 7 days
that match any condition's property filters (conditions without filters are ignored, rollout is
ignored) are evaluated with the code; nothing is saved. Errors use `{"error": ...}` bodies.
The conditions are applied on the HogVM over at most `MAX_CANDIDATES` of the newest events.

The whole request has one time budget, `TIME_BUDGET` (the limit of one evaluation): matching the
conditions and running the code on every sampled event share it, so ten events cannot take ten times
as long. Events the budget did not reach are still listed, each with `NOT_EVALUATED_ERROR`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool, ValidationError, field_validator

from assay.api.deps import Principal, SessionDep
from assay.api.errors import drf_response
from assay.api.llm_analytics.any_scope import environment_any_scope
from assay.api.llm_analytics.common import ERROR_RESPONSES, not_blank, scopes_doc
from assay.domain.evaluator_config import MAX_HOG_SOURCE_LENGTH
from assay.domain.messages import GENERATION_EVENT, extract_event_io, text_preview
from assay.evaluators.hog_eval import TIMEOUT_ERROR, run_hog_eval_async
from assay.hog.stdlib.values import format_number
from assay.hog.vm import DEFAULT_TIMEOUT
from assay.ingest.matching import first_matching
from assay.storage import events as store
from assay.storage.event_tables import EventRow
from assay.storage.events import EventFilter
from assay.storage.types import utcnow

router = APIRouter(prefix="/api/environments/{environment_id}/evaluations", tags=["evaluations"])
Access = Annotated[Principal, Depends(environment_any_scope("evaluation:read"))]

LOOKBACK = timedelta(days=7)
MAX_CANDIDATES = 1_000
MAX_SOURCE_LENGTH = MAX_HOG_SOURCE_LENGTH
"""Longest `source` accepted, as for the Hog code of a stored evaluator."""
TIME_BUDGET = DEFAULT_TIMEOUT
"""Seconds for the whole request: condition matching plus every sampled event's evaluation."""
GRACE = 0.5
"""How long past the budget an evaluation may take to report its own timeout before it is abandoned."""
NO_EVENTS_MESSAGE = "No recent AI events found in the last 7 days"
NO_MATCH_IN_TIME_MESSAGE = (
    f"No recent AI events matched the conditions within the {format_number(TIME_BUDGET)} s time budget"
)
NOT_EVALUATED_ERROR = (
    f"Not evaluated: the request's {format_number(TIME_BUDGET)} s time budget was used up by earlier events"
)


class TestHogRequest(BaseModel):
    """Hog code to try. It must return true (pass), false (fail), or null for N/A when `allows_na`."""

    __test__ = False  # not a pytest test class

    source: str = Field(min_length=1, max_length=MAX_SOURCE_LENGTH)
    sample_count: int = Field(default=5, ge=1, le=10)
    allows_na: StrictBool = False  # a JSON boolean: 0 or "true" is refused
    conditions: list[dict[str, Any]] = Field(default_factory=list)

    _source_not_blank = field_validator("source")(not_blank)


class TestHogResult(BaseModel):
    __test__ = False

    event_uuid: str
    trace_id: str | None
    input_preview: str
    output_preview: str
    result: bool | None
    reasoning: str
    error: str | None


class TestHogResponse(BaseModel):
    __test__ = False

    results: list[TestHogResult]
    message: str | None = None


def _message(err: dict[str, Any]) -> str:
    """A pydantic error in Django REST framework's words."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "This field is required."
    if value is None:
        return "This field may not be null."
    if kind == "string_too_short":
        return "This field may not be blank."
    if kind == "string_too_long":
        return f"Ensure this field has no more than {ctx.get('max_length')} characters."
    if kind == "string_type":
        return "Not a valid string."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "A valid integer is required."
    if kind == "greater_than_equal":
        return f"Ensure this value is greater than or equal to {ctx.get('ge')}."
    if kind == "less_than_equal":
        return f"Ensure this value is less than or equal to {ctx.get('le')}."
    if kind in ("bool_type", "bool_parsing"):
        return "Must be a valid boolean."
    if kind == "list_type":
        return f'Expected a list of items but got type "{type(value).__name__}".'
    if kind == "dict_type":
        return f'Expected a dictionary of items but got type "{type(value).__name__}".'
    return str(err.get("msg", "Invalid value."))


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for err in exc.errors():
        loc = err.get("loc") or ()
        field = str(loc[0]) if loc else "non_field_errors"
        errors.setdefault(field, []).append(_message(dict(err)))
    return errors


def _bad_request(error: Any) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=400)


def _compile_source(source: str) -> list[Any] | JSONResponse:
    from assay.hog import HogSyntaxError, compile_program

    try:
        return compile_program(source)
    except HogSyntaxError as e:
        return _bad_request(f"Compilation error: {e}")
    except RecursionError:
        return _bad_request("Compilation error: the program is nested too deeply")
    except Exception:
        return _bad_request("Compilation failed due to an unexpected error")


def _condition_programs(conditions: list[dict[str, Any]]) -> list[list[Any]] | JSONResponse:
    from assay.hog import compile_property_filters

    programs: list[list[Any]] = []
    for i, condition in enumerate(conditions):
        filters = condition.get("properties")
        if not filters:
            continue
        try:
            programs.append(compile_property_filters(filters))
        except (ValueError, TypeError, RecursionError) as e:
            return _bad_request({"conditions": [f"Condition {i}: {e}"]})
    return programs


async def _sample(
    session: SessionDep, principal: Principal, programs: list[list[Any]], want: int, deadline: float
) -> list[EventRow]:
    filters = EventFilter(event=GENERATION_EVENT, after=utcnow() - LOOKBACK)
    if not programs:
        return await store.latest_events(
            session=session, environment_id=principal.environment_id, filters=filters, limit=want
        )
    found: list[EventRow] = []
    async for chunk in store.scan_events(
        session=session, environment_id=principal.environment_id, filters=filters, max_rows=MAX_CANDIDATES
    ):
        candidates = [(r.event, r.distinct_id, r.properties) for r in chunk]
        hits = await asyncio.to_thread(first_matching, programs, candidates, want - len(found), deadline=deadline)
        found.extend(chunk[i] for i in hits)
        if len(found) >= want or time.monotonic() >= deadline:
            break
    return found


async def _run(bytecode: list[Any], event: dict[str, Any], allows_na: bool, deadline: float) -> dict[str, Any]:
    """The evaluation's outcome, never later than shortly after `deadline`."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return {"verdict": None, "reasoning": "", "error": NOT_EVALUATED_ERROR}
    try:
        # The VM stops itself at `remaining`; the wait only guards against one native call overrunning it.
        return await asyncio.wait_for(
            run_hog_eval_async(bytecode, event, allows_na, timeout=remaining), remaining + GRACE
        )
    except TimeoutError:
        return {"verdict": None, "reasoning": "", "error": TIMEOUT_ERROR}


async def _evaluate(bytecode: list[Any], row: EventRow, allows_na: bool, deadline: float) -> TestHogResult:
    event = {"uuid": str(row.uuid), "event": row.event, "properties": row.properties, "distinct_id": row.distinct_id}
    outcome = await _run(bytecode, event, allows_na, deadline)
    input_raw, output_raw = extract_event_io(row.event, row.properties)
    trace_id = row.properties.get("$ai_trace_id")
    return TestHogResult(
        event_uuid=str(row.uuid),
        trace_id=str(trace_id) if trace_id not in (None, "") else None,
        input_preview=text_preview(input_raw),
        output_preview=text_preview(output_raw),
        result=outcome["verdict"],
        reasoning=outcome["reasoning"],
        error=outcome["error"],
    )


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": TestHogRequest.model_json_schema()}},
    },
    **scopes_doc("evaluation:read"),
}


@router.post(
    "/test_hog",
    openapi_extra=_BODY_DOC,
    response_class=JSONResponse,
    responses={
        **ERROR_RESPONSES,
        200: {"model": TestHogResponse, "description": "One result per sampled event (`message` only when none)."},
        400: {"description": '`{"error": {field: [messages]}}` or `{"error": "Compilation error: …"}`.'},
    },
)
async def test_hog(request: Request, session: SessionDep, principal: Access) -> JSONResponse:
    """Run Hog code on up to `sample_count` recent `$ai_generation` events within one time budget, without saving."""
    try:
        raw = orjson.loads(await request.body())
    except orjson.JSONDecodeError as e:
        return drf_response(400, "validation_error", "parse_error", f"JSON parse error - {e}")
    if not isinstance(raw, dict):
        return _bad_request(
            {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(raw).__name__}."]}
        )
    try:
        body = TestHogRequest.model_validate(raw)
    except ValidationError as e:
        return _bad_request(_field_errors(e))
    bytecode = _compile_source(body.source)
    if isinstance(bytecode, JSONResponse):
        return bytecode
    programs = _condition_programs(body.conditions)
    if isinstance(programs, JSONResponse):
        return programs
    deadline = time.monotonic() + TIME_BUDGET
    rows = await _sample(session, principal, programs, body.sample_count, deadline)
    if not rows:
        message = NO_MATCH_IN_TIME_MESSAGE if time.monotonic() >= deadline else NO_EVENTS_MESSAGE
        return JSONResponse({"results": [], "message": message})
    results = [(await _evaluate(bytecode, row, body.allows_na, deadline)).model_dump(mode="json") for row in rows]
    return JSONResponse({"results": results})
