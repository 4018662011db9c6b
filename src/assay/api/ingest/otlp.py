"""OTLP/HTTP receivers: `POST /v1/traces`, `POST /v1/logs`, and `POST /i/v0/ai/otel` (where `posthog.ai.otel`
exports spans; `/i/v0/ai/otel/v1/traces` and `/i/v0/ai/otel/v1/logs` too). Both slash forms work.

The project token is the credential: `Authorization: Bearer <project token>` (as `posthog.ai.otel` sends it),
`X-Api-Key`, or `?token=`. Bodies are protobuf or JSON, optionally gzip/deflate (`ingest/otlp/decode.py`).
Answers follow the OTLP/HTTP specification, in the request's encoding: 200 with an empty
`Export*ServiceResponse`, or with `partial_success` (`rejected_spans` / `rejected_log_records` and an
`error_message`) when some items were refused; 400 for an undecodable body, 401 for a missing or unknown
token, 415 for an unsupported content type or encoding, each with a `google.rpc.Status` body (`code`, `message`).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from assay.api.deps import SessionDep
from assay.api.ingest.notify import online_notifier
from assay.ingest.otlp.decode import Encoding, OtlpDecodeError, body_encoding, decode_logs, decode_traces
from assay.services.otlp_ingestion import ingest_logs, ingest_spans, sweep_expired
from assay.storage.db import Session
from assay.storage.environments import environment_by_token

router = APIRouter(tags=["opentelemetry"])

TRACE_PATHS = ("/v1/traces", "/i/v0/ai/otel", "/i/v0/ai/otel/v1/traces")
LOG_PATHS = ("/v1/logs", "/i/v0/ai/otel/v1/logs")
DOCUMENTED = ("/v1/traces", "/v1/logs", "/i/v0/ai/otel")  # the other paths and slash forms work the same
_PROTOBUF = "application/x-protobuf"
_GRPC_UNAUTHENTICATED, _GRPC_INVALID_ARGUMENT, _GRPC_UNIMPLEMENTED = 16, 3, 12
_MISSING_TOKEN = (
    "Project token is missing: send it as `Authorization: Bearer <project token>`. "
    "`assay env list` shows each environment's project token."
)
_INVALID_TOKEN = "Project token invalid. `assay env list` shows each environment's project token."


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _status_body(encoding: Encoding, code: int, message: str) -> tuple[bytes, str]:
    """A `google.rpc.Status` (field 1 `code`, field 2 `message`) in the request's encoding."""
    if encoding == "json":
        return orjson.dumps({"code": code, "message": message}), "application/json"
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text, _PROTOBUF


def _error(encoding: Encoding, status: int, code: int, message: str) -> Response:
    body, media = _status_body(encoding, code, message)
    return Response(body, status_code=status, media_type=media)


def _answer(encoding: Encoding, message: Message) -> Response:
    if encoding == "json":
        return Response(orjson.dumps(json_format.MessageToDict(message)), media_type="application/json")
    return Response(message.SerializeToString(), media_type=_PROTOBUF)


def _token(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return (request.headers.get("x-api-key") or request.query_params.get("token") or "").strip() or None


async def _export(request: Request, session: Session, *, signal: str) -> Response:
    body = await request.body()
    content_type = request.headers.get("content-type")
    try:
        encoding = body_encoding(content_type, body)
    except OtlpDecodeError as e:
        return _error("json", e.status, _GRPC_UNIMPLEMENTED, e.message)
    if not content_type:  # errors in the encoding the client named; JSON when it named none
        encoding = "json"
    token = _token(request)
    if token is None:
        return _error(encoding, 401, _GRPC_UNAUTHENTICATED, _MISSING_TOKEN)
    environment = await environment_by_token(session=session, token=token)
    if environment is None:
        return _error(encoding, 401, _GRPC_UNAUTHENTICATED, _INVALID_TOKEN)
    encoding_header = request.headers.get("content-encoding")
    wait: float = request.app.state.settings.otlp_log_wait_seconds
    notify = online_notifier(request.app)
    if not content_type:
        content_type = "application/json" if body.lstrip()[:1] == b"{" else _PROTOBUF
    try:
        if signal == "traces":
            spans = decode_traces(body, content_type=content_type, content_encoding=encoding_header)
            await sweep_expired(session=session, notify=notify)
            outcome = await ingest_spans(
                session=session, environment_id=environment.id, spans=spans, wait_seconds=wait, notify=notify
            )
        else:
            logs = decode_logs(body, content_type=content_type, content_encoding=encoding_header)
            outcome = await ingest_logs(
                session=session, environment_id=environment.id, logs=logs, wait_seconds=wait, notify=notify
            )
    except OtlpDecodeError as e:
        code = _GRPC_UNIMPLEMENTED if e.status == 415 else _GRPC_INVALID_ARGUMENT
        return _error(encoding, e.status, code, e.message)
    if signal == "traces":
        traces = ExportTraceServiceResponse()
        if outcome.rejected:
            traces.partial_success.rejected_spans = outcome.rejected
            traces.partial_success.error_message = outcome.error_message
        return _answer(encoding, traces)
    logs_answer = ExportLogsServiceResponse()
    if outcome.rejected:
        logs_answer.partial_success.rejected_log_records = outcome.rejected
        logs_answer.partial_success.error_message = outcome.error_message
    return _answer(encoding, logs_answer)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Accepted; `partialSuccess` counts refused items and says why."},
    400: {"description": "The body is not a valid OTLP message."},
    401: {"description": "The project token is missing or unknown."},
    415: {"description": "The content type or encoding is not supported."},
}


async def export_traces(request: Request, session: SessionDep) -> Response:
    """Receive an OTLP `ExportTraceServiceRequest`; GenAI spans become `$ai_*` events.

    The body is protobuf (`application/x-protobuf`) or OTLP JSON (`application/json`), optionally gzip or deflate.
    """
    return await _export(request, session, signal="traces")


async def export_logs(request: Request, session: SessionDep) -> Response:
    """Receive an OTLP `ExportLogsServiceRequest`; GenAI log events give their spans' messages.

    The body is protobuf (`application/x-protobuf`) or OTLP JSON (`application/json`), optionally gzip or deflate.
    """
    return await _export(request, session, signal="logs")


for _paths, _handler in ((TRACE_PATHS, export_traces), (LOG_PATHS, export_logs)):
    for _path in _paths:
        for _variant in (_path, f"{_path}/"):
            router.add_api_route(
                _variant,
                _handler,
                methods=["POST"],
                responses=_RESPONSES,
                include_in_schema=_variant in DOCUMENTED,
            )
