"""Decoding OTLP/HTTP export requests (traces and logs) into `records.py` values.

Bodies are protobuf (`application/x-protobuf`) or OTLP JSON (`application/json`: ids as hex strings, enums as
numbers, 64-bit integers as strings or numbers, unknown fields ignored), optionally compressed with
`Content-Encoding: gzip` or `deflate` (decompressed with a size bound). A body with no content type is read as
JSON when it starts like JSON, as protobuf otherwise. An unknown content type or encoding raises
`OtlpDecodeError` with status 415; an undecodable body, status 400.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterator
from typing import Any, Literal

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from assay.ingest.decode import CaptureDecodeError, gunzip, inflate
from assay.ingest.otlp.records import OtelLog, OtelSpan, SpanEvent

Encoding = Literal["protobuf", "json"]

PROTOBUF_TYPES = frozenset({"application/x-protobuf", "application/protobuf"})
JSON_TYPES = frozenset({"application/json"})
MAX_VALUE_DEPTH = 32
"""Deepest nesting of array and key-value list values read; deeper values are cut to a string."""


class OtlpDecodeError(ValueError):
    """The request cannot be decoded: `status` is 400 (bad body) or 415 (unsupported type or encoding)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def body_encoding(content_type: str | None, body: bytes) -> Encoding:
    """The encoding named by the content type (415 when it is neither protobuf nor JSON)."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in PROTOBUF_TYPES:
        return "protobuf"
    if mime in JSON_TYPES:
        return "json"
    if not mime:
        return "json" if body.lstrip()[:1] == b"{" else "protobuf"
    raise OtlpDecodeError(
        415, f"Content-Type {mime!r} is not supported: send application/x-protobuf or application/json"
    )


def decompress(body: bytes, content_encoding: str | None) -> bytes:
    """The body without its `Content-Encoding` (gzip, deflate or none), within the decompressed size bound."""
    encoding = (content_encoding or "").split(",", 1)[0].strip().lower()
    try:
        if encoding == "gzip":
            return gunzip(body)
        if encoding == "deflate":
            return inflate(body)
    except CaptureDecodeError as e:
        raise OtlpDecodeError(400, e.message) from None
    if encoding in ("", "identity"):
        return body
    raise OtlpDecodeError(415, f"Content-Encoding {encoding!r} is not supported: use gzip, deflate or none")


# --- values ------------------------------------------------------------------------------------


def any_value(value: AnyValue, depth: int = 0) -> Any:
    """An `AnyValue` as a Python value (bytes as base64 text, kvlists as dicts, non-finite doubles as text)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind in ("array_value", "kvlist_value") and depth >= MAX_VALUE_DEPTH:
        return "[too deeply nested]"
    if kind == "array_value":
        return [any_value(v, depth + 1) for v in value.array_value.values]
    if kind == "kvlist_value":
        return key_values(value.kvlist_value.values, depth + 1)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    if kind == "double_value" and not math.isfinite(value.double_value):
        return str(value.double_value)  # NaN and infinities are not JSON: kept as text
    return getattr(value, kind)


def key_values(items: Any, depth: int = 0) -> dict[str, Any]:
    """Repeated `KeyValue`s as a dict (a later duplicate key wins)."""
    out: dict[str, Any] = {}
    for kv in items:
        assert isinstance(kv, KeyValue)
        out[kv.key] = any_value(kv.value, depth)
    return out


def _hex(raw: bytes) -> str:
    return raw.hex() if raw.strip(b"\x00") else ""


# --- JSON to protobuf --------------------------------------------------------------------------

_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


def _fix_ids(item: Any) -> None:
    """OTLP JSON sends ids as hex; the protobuf JSON reader expects base64. Anything else is left to it."""
    if not isinstance(item, dict):
        return
    for key in _ID_FIELDS:
        value = item.get(key)
        if isinstance(value, str) and value and len(value) % 2 == 0:
            try:
                item[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
            except ValueError:
                pass
    for link in item.get("links") or ():
        _fix_ids(link)


def _children(item: Any, *keys: str) -> Iterator[Any]:
    if not isinstance(item, dict):
        return
    for key in keys:
        values = item.get(key)
        if isinstance(values, list):
            yield from values


def _walk_json(doc: dict[str, Any], top: tuple[str, str], middle: tuple[str, str], leaf: tuple[str, str]) -> None:
    for resource in _children(doc, *top):
        for scope in _children(resource, *middle):
            for record in _children(scope, *leaf):
                _fix_ids(record)


def _parse(body: bytes, encoding: Encoding, message: Message, fix: Callable[[dict[str, Any]], None]) -> None:
    if encoding == "protobuf":
        try:
            message.ParseFromString(body)
        except (DecodeError, RecursionError) as e:
            raise OtlpDecodeError(400, f"body is not a valid OTLP protobuf message: {e}") from None
        return
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise OtlpDecodeError(400, f"body is not valid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise OtlpDecodeError(400, "body must be a JSON object")
    fix(doc)
    try:
        json_format.ParseDict(doc, message, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, TypeError, ValueError) as e:
        raise OtlpDecodeError(400, f"body is not a valid OTLP JSON message: {e}") from None
    except Exception as e:  # defensive: every undecodable body is a client error, never a 500
        raise OtlpDecodeError(400, f"body could not be decoded ({type(e).__name__})") from None


# --- requests ----------------------------------------------------------------------------------


def decode_traces(body: bytes, *, content_type: str | None, content_encoding: str | None) -> list[OtelSpan]:
    """Every span of an `ExportTraceServiceRequest` body, with its resource and scope."""
    encoding = body_encoding(content_type, body)
    raw = decompress(body, content_encoding)
    request = ExportTraceServiceRequest()
    _parse(
        raw,
        encoding,
        request,
        lambda doc: _walk_json(
            doc, ("resourceSpans", "resource_spans"), ("scopeSpans", "scope_spans"), ("spans", "spans")
        ),
    )
    spans: list[OtelSpan] = []
    for resource_spans in request.resource_spans:
        resource = key_values(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                spans.append(
                    OtelSpan(
                        trace_id=_hex(span.trace_id),
                        span_id=_hex(span.span_id),
                        parent_span_id=_hex(span.parent_span_id),
                        name=span.name,
                        kind=int(span.kind),
                        start_time_unix_nano=span.start_time_unix_nano,
                        end_time_unix_nano=span.end_time_unix_nano,
                        attributes=key_values(span.attributes),
                        status_code=int(span.status.code),
                        status_message=span.status.message,
                        events=tuple(
                            SpanEvent(e.name, e.time_unix_nano, key_values(e.attributes)) for e in span.events
                        ),
                        resource=resource,
                        scope_name=scope.name,
                        scope_version=scope.version,
                    )
                )
    return spans


def decode_logs(body: bytes, *, content_type: str | None, content_encoding: str | None) -> list[OtelLog]:
    """Every log record of an `ExportLogsServiceRequest` body, with its resource and scope."""
    encoding = body_encoding(content_type, body)
    raw = decompress(body, content_encoding)
    request = ExportLogsServiceRequest()
    _parse(
        raw,
        encoding,
        request,
        lambda doc: _walk_json(
            doc, ("resourceLogs", "resource_logs"), ("scopeLogs", "scope_logs"), ("logRecords", "log_records")
        ),
    )
    logs: list[OtelLog] = []
    for resource_logs in request.resource_logs:
        resource = key_values(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                attributes = key_values(record.attributes)
                event_name = record.event_name or attributes.get("event.name") or ""
                logs.append(
                    OtelLog(
                        trace_id=_hex(record.trace_id),
                        span_id=_hex(record.span_id),
                        time_unix_nano=record.time_unix_nano or record.observed_time_unix_nano,
                        event_name=event_name if isinstance(event_name, str) else "",
                        body=any_value(record.body) if record.HasField("body") else None,
                        attributes=attributes,
                        resource=resource,
                        scope_name=scope_logs.scope.name,
                    )
                )
    return logs
