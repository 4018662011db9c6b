"""`/batch/`, `/capture/`, `/e/`, `/i/v0/e/`: events sent by PostHog SDKs with a project token.

Also `/i/v0/ai/batch/` (posthog-python's AI lane). Every path works with and without the trailing
slash. No API key: the project token in the body (`api_key`/`token`, or per event) or the query
(`?token=`) is the credential and picks the environment.

Answers as PostHog's capture does: 200 `{"status": 1}` when the request is accepted, plus
`"rejected": [{"index", "reason"}]` when single events were refused (the others are stored);
400 when the body cannot be decoded; 401 when the token is missing or unknown. Storing is
idempotent on the event uuid, so SDK retries are harmless. Nothing is evaluated in the request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from assay.api.deps import SessionDep
from assay.api.ingest.notify import online_notifier
from assay.ingest.decode import CaptureDecodeError, decode_capture_request
from assay.services.ingestion import ingest_batch
from assay.storage.environments import environment_by_token

router = APIRouter(tags=["capture"])

CAPTURE_PATHS = ("/batch", "/capture", "/e", "/i/v0/e", "/i/v0/ai/batch")
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Content-Encoding",
    "Access-Control-Max-Age": "86400",
}
_MISSING_TOKEN = (
    "API key is missing: send the project token as `api_key` in the body, or as `?token=`. "
    "`assay env list` shows each environment's project token."
)
_INVALID_TOKEN = "Project API key invalid. `assay env list` shows each environment's project token."


def _answer(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=_CORS)


def _error(status: int, type_: str, code: str, detail: str) -> JSONResponse:
    return _answer(status, {"type": type_, "code": code, "detail": detail, "attr": None})


async def _capture(request: Request, session: SessionDep, body: bytes, content_type: str | None) -> JSONResponse:
    try:
        payload = decode_capture_request(
            body,
            content_type=content_type,
            content_encoding=request.headers.get("content-encoding"),
            query=dict(request.query_params),
        )
    except CaptureDecodeError as e:
        return _error(400, "validation_error", "invalid_payload", f"Malformed request data: {e.message}")
    if not payload.token:
        return _error(401, "authentication_error", "invalid_api_key", _MISSING_TOKEN)
    environment = await environment_by_token(session=session, token=payload.token)
    if environment is None:
        return _error(401, "authentication_error", "invalid_api_key", _INVALID_TOKEN)
    outcome = await ingest_batch(
        session=session,
        environment_id=environment.id,
        raw_events=payload.events,
        sent_at=payload.sent_at,
        notify=online_notifier(request.app),
    )
    answer: dict[str, Any] = {"status": 1}
    if outcome.rejected:
        answer["rejected"] = outcome.rejected
    return _answer(200, answer)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": 'Accepted: `{"status": 1}`, with `rejected: [{"index", "reason"}]` for refused events.'},
    400: {"description": "The body cannot be decoded; `detail` says why."},
    401: {"description": "The project token is missing or unknown."},
}


async def capture_post(request: Request, session: SessionDep) -> Response:
    """Capture events sent by a PostHog SDK (JSON, gzip, base64, lz64 or `data=` form bodies)."""
    body = await request.body()
    return await _capture(request, session, body, request.headers.get("content-type"))


async def capture_get(request: Request, session: SessionDep) -> Response:
    """Capture events sent as `?data=<base64|lz64|JSON>[&compression=…]` (posthog-js image/beacon fallback)."""
    data = request.query_params.get("data")
    if data is None:
        return _error(400, "validation_error", "invalid_payload", "Malformed request data: no `data` query parameter")
    form = {"data": data}
    if request.query_params.get("compression"):
        form["compression"] = request.query_params["compression"]
    return await _capture(request, session, urlencode(form).encode(), "application/x-www-form-urlencoded")


async def capture_options() -> Response:
    """CORS preflight for browsers."""
    return Response(status_code=204, headers=_CORS)


for _path in CAPTURE_PATHS:
    for _variant in (f"{_path}/", _path):
        documented = _variant.endswith("/")  # the slash-less twins work the same; documented once
        router.add_api_route(
            _variant, capture_post, methods=["POST"], responses=_RESPONSES, include_in_schema=documented
        )
        router.add_api_route(_variant, capture_get, methods=["GET"], responses=_RESPONSES, include_in_schema=documented)
        router.add_api_route(_variant, capture_options, methods=["OPTIONS"], include_in_schema=False)
