"""`POST /api/environments/{environment_id}/evaluations/test_hog`: try Hog code on recent events.

The trial itself (sampling, the shared time budget, the results) is `assay.services.hog_trials`;
this router validates the body and answers errors with `{"error": ...}` bodies, as the original.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool, ValidationError, field_validator

from assay.api.deps import Principal, SessionDep
from assay.api.errors import drf_response
from assay.api.llm_analytics.any_scope import environment_any_scope
from assay.api.llm_analytics.common import ERROR_RESPONSES, not_blank, scopes_doc
from assay.services import hog_trials

router = APIRouter(prefix="/api/environments/{environment_id}/evaluations", tags=["evaluations"])
Access = Annotated[Principal, Depends(environment_any_scope("evaluation:read"))]


class TestHogRequest(BaseModel):
    """Hog code to try. It must return true (pass), false (fail), or null for N/A when `allows_na`."""

    __test__ = False  # not a pytest test class

    source: str = Field(min_length=1, max_length=hog_trials.MAX_SOURCE_LENGTH)
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
    try:
        trial = await hog_trials.try_hog(
            session=session,
            environment_id=principal.environment_id,
            source=body.source,
            sample_count=body.sample_count,
            allows_na=body.allows_na,
            conditions=body.conditions,
        )
    except hog_trials.HogTrialRefused as refused:
        return _bad_request(refused.error)
    if not trial.results:
        return JSONResponse({"results": [], "message": trial.message})
    return JSONResponse({"results": [result.to_json() for result in trial.results]})
