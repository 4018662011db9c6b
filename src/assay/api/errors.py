"""Error bodies of the two surfaces, and the handlers that map exceptions to them.

The LLM-analytics surface (`/api/…`) answers like the original product: 400 with
`{"type", "code", "detail", "attr"}` (the first error only), and 405 with an empty body.
The agent-evaluations surface (`/v1/…`) answers like FastAPI: 422 with `{"detail": [{"loc", "msg", "type"}]}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from assay.api.routing import allowed_methods
from assay.api.safe_json import renderable
from assay.errors import AuthError, ConflictError, DomainError, ResourceNotFound, ValidationFailed

ANALYTICS_PREFIX = "/api/"


class DrfError(BaseModel):
    """An error of the LLM-analytics surface."""

    type: str
    code: str
    detail: str
    attr: str | None = None


def is_analytics(request: Request) -> bool:
    return request.url.path.startswith(ANALYTICS_PREFIX)


class HttpError(BaseModel):
    """An error of the agent-evaluations surface other than invalid input."""

    detail: str


def drf_response(status: int, type_: str, code: str, detail: str, attr: str | None = None) -> JSONResponse:
    return JSONResponse({"type": type_, "code": code, "detail": detail, "attr": attr}, status_code=status)


_DATETIME_HELP = "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]"


def _drf_code_and_message(err: dict[str, Any]) -> tuple[str, str]:
    """Translate one pydantic error into the original product's code and message."""
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "required", "This field is required."
    if kind in {
        "blank",
        "null",
        "invalid_choice",
        "does_not_exist",
        "not_a_list",
        "invalid",
        "max_value",
        "min_value",
        "null_characters_not_allowed",
    }:
        return kind, str(err.get("msg"))
    if value is None and kind.endswith(("_type", "_parsing")):
        return "null", "This field may not be null."
    if kind == "json_invalid":
        return "parse_error", f"JSON parse error - {ctx.get('error', 'invalid JSON')}"
    if kind in {"literal_error", "enum"}:
        return "invalid_choice", f'"{value}" is not a valid choice.'
    if kind == "string_too_long":
        return "max_length", f"Ensure this field has no more than {ctx.get('max_length')} characters."
    if kind in {"string_type"}:
        return "invalid", "Not a valid string."
    if kind in {"bool_type", "bool_parsing"}:
        return "invalid", "Must be a valid boolean."
    if kind in {"uuid_type", "uuid_parsing"}:
        return "invalid", "Must be a valid UUID."
    if kind.startswith(("datetime", "timezone")):
        return "invalid", f"Datetime has wrong format. Use one of these formats instead: {_DATETIME_HELP}."
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return "invalid", "A valid integer is required."
    if kind in {"greater_than_equal", "greater_than"}:
        return "min_value", f"Ensure this value is greater than or equal to {ctx.get('ge', ctx.get('gt'))}."
    if kind in {"less_than_equal", "less_than"}:
        return "max_value", f"Ensure this value is less than or equal to {ctx.get('le', ctx.get('lt'))}."
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "invalid", f'Expected a dictionary of items but got type "{type(value).__name__}".'
    if kind == "list_type":
        return "not_a_list", f'Expected a list of items but got type "{type(value).__name__}".'
    msg = str(err.get("msg", "Invalid value."))
    return "invalid", msg.removeprefix("Value error, ")


def _drf_attr(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc[1:] if not isinstance(p, int)] if loc and loc[0] in {"body", "query", "path"} else []
    return "__".join(parts) or None


def drf_validation_response(errors: list[dict[str, Any]]) -> JSONResponse:
    err = errors[0]
    loc = tuple(err.get("loc", ()))
    if loc == ("body",) and err.get("type") in {"dict_type", "model_attributes_type", "model_type"}:
        found = type(err.get("input")).__name__
        return drf_response(
            400, "validation_error", "invalid", f"Invalid data. Expected a dictionary, but got {found}."
        )
    code, message = _drf_code_and_message(err)
    return drf_response(400, "validation_error", code, message, _drf_attr(loc))


def validation_response(path: str, errors: list[dict[str, Any]]) -> Response:
    """The surface's answer to invalid input: a DRF 400 under `/api/`, else FastAPI's 422 (echoes made renderable)."""
    if path.startswith(ANALYTICS_PREFIX):
        return drf_validation_response(errors)
    return JSONResponse({"detail": renderable(errors)}, status_code=422)


def json_parse_error_response(path: str, reason: str) -> Response:
    """A body that is not acceptable JSON, answered like the framework's own parse errors."""
    error = {
        "type": "json_invalid",
        "loc": ("body",),
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": reason},
    }
    return validation_response(path, [error])


async def _request_validation(request: Request, exc: RequestValidationError) -> Response:
    return validation_response(request.url.path, list(exc.errors()))


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    analytics = is_analytics(request)
    if isinstance(exc, AuthError):
        if analytics:
            return drf_response(exc.status_code, "authentication_error", exc.code, exc.message)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code, headers=headers)
    if isinstance(exc, ResourceNotFound):
        if analytics:
            return drf_response(404, "invalid_request", "not_found", exc.message)
        return JSONResponse({"detail": exc.message}, status_code=404)
    if isinstance(exc, ValidationFailed):
        if analytics:
            return drf_response(400, "validation_error", exc.code, exc.message, exc.attr)
        loc = ["body", *exc.attr.split("__")] if exc.attr else ["body"]
        return JSONResponse({"detail": [{"loc": loc, "msg": exc.message, "type": exc.code}]}, status_code=422)
    if isinstance(exc, ConflictError):
        if analytics:
            return drf_response(409, "invalid_request", "conflict", exc.message)
        return JSONResponse({"detail": exc.message}, status_code=409)
    return JSONResponse({"detail": exc.message}, status_code=400)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    headers = exc.headers
    if exc.status_code == 405:
        # The router names only the methods of the first route on the path; `Allow` lists every route's.
        methods = allowed_methods(request.app.router.routes, request.scope)
        if methods:
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={"Allow": ", ".join(methods)})
            headers = {**(headers or {}), "Allow": ", ".join(methods)}
    if is_analytics(request):
        if exc.status_code == 405:
            return Response(status_code=405, headers=headers)
        if exc.status_code == 404:
            return drf_response(404, "invalid_request", "not_found", "Not found.")
        return drf_response(exc.status_code, "invalid_request", "error", str(exc.detail))
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _request_validation)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
