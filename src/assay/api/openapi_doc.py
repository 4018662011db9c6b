"""The OpenAPI document, completed with the answers every route shares.

Routes document their own successes and specific errors; what follows from the shared machinery is added here
once: authentication (401/403), unknown objects (404), bodies over the limit (413), `/v1`'s 400, the empty 405
of refused hard deletes, the `Allow` header, and OPTIONS on every path. `/api/` never answers 422 (invalid
input is a 400 there), so that FastAPI default is dropped.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.routing import Match

from assay.api.errors import ANALYTICS_PREFIX, DrfError, HttpError

_HTTP_METHODS = ("get", "put", "post", "delete", "patch")
_BODY_METHODS = ("put", "post", "patch", "delete")

_ALLOW_HEADER = {
    "Allow": {
        "description": "The methods this path serves, comma-separated.",
        "schema": {"type": "string"},
    }
}


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _shared_responses(path: str, method: str, operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The answers the shared machinery may give for this operation, by status."""
    analytics = path.startswith(ANALYTICS_PREFIX)
    error = "#/components/schemas/DrfError" if analytics else "#/components/schemas/HttpError"
    shared: dict[str, dict[str, Any]] = {}
    if operation.get("security"):
        shared["401"] = _json(error, "Missing or invalid API key.")
        shared["403"] = _json(error, "The key lacks the scope, or belongs to another environment.")
    if not analytics and path.startswith("/v1/"):
        shared["400"] = _json(error, "The request cannot be read (for example, a body that is not UTF-8).")
        if "{" in path:
            shared["404"] = _json(error, "No such object.")
    if method in _BODY_METHODS and "requestBody" in operation:
        shared["413"] = _json("#/components/schemas/HttpError", "The body is larger than the configured limit.")
    return shared


def _options_operation(path: str) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in (part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}"))
    ]
    operation: dict[str, Any] = {
        "summary": "Allowed methods",
        "description": "The methods this path serves, in `Allow`. No authentication is needed.",
        "operationId": "options_" + "_".join(p.strip("{}") for p in path.split("/") if p),
        "security": [],
        "responses": {"204": {"description": "No content; see `Allow`.", "headers": _ALLOW_HEADER}},
    }
    if parameters:
        operation["parameters"] = parameters
    return operation


def complete_document(document: dict[str, Any], *, explicit_options: set[str]) -> dict[str, Any]:
    """Add the shared answers to every operation of `document` (in place) and return it.

    `explicit_options` holds the paths whose OPTIONS a route of its own answers (CORS preflight); they keep it.
    """
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("DrfError", DrfError.model_json_schema())
    schemas.setdefault("HttpError", HttpError.model_json_schema())
    for path, item in document.get("paths", {}).items():
        for method in _HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in _shared_responses(path, method, operation).items():
                responses.setdefault(status, response)
            if path.startswith(ANALYTICS_PREFIX):
                responses.pop("422", None)
            refused = responses.get("405")
            if refused is not None:
                refused.pop("content", None)
                if refused.get("description") == "Successful Response":
                    refused["description"] = "Refused: this method is not allowed on this path. No body."
        if path not in explicit_options and "options" not in item:
            item["options"] = _options_operation(path)
    return document


def _answers_options_itself(app: FastAPI, path: str) -> bool:
    """Whether a route of its own serves OPTIONS on `path` (its parameters filled in)."""
    concrete = "/".join("x" if part.startswith("{") else part for part in path.split("/"))
    probe = {"type": "http", "path": concrete, "root_path": "", "method": "OPTIONS", "headers": []}
    return any(route.matches(dict(probe))[0] is Match.FULL for route in app.router.routes)


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at `/openapi.json` (built once, on first use)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            explicit = {path for path in document.get("paths", {}) if _answers_options_itself(app, path)}
            app.openapi_schema = complete_document(document, explicit_options=explicit)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
