"""The OTLP/HTTP receivers' protocol: encodings, compression, authentication, partial success, bad bodies."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.ingest.otlp.helpers import export, payload, stored

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def _sdk_request() -> bytes:
    """An export request encoded by the SDK's own OTLP encoder: one chat span inside a non-AI span."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("GET /answer"):  # not an AI span: skipped
        with tracer.start_as_current_span("chat m") as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "m",
                    "gen_ai.input.messages": json.dumps(
                        [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
                    ),
                    "posthog.distinct_id": "pb-user",
                }
            )
    provider.shutdown()
    return encode_spans(memory.get_finished_spans()).SerializeToString()


def _auth(env: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {env.project_token}"}


@sqlite_only
async def test_protobuf_with_and_without_gzip_on_every_path(client, env_a) -> None:  # noqa: ANN001
    body = _sdk_request()
    for path, compress in (("/v1/traces", False), ("/i/v0/ai/otel", True), ("/i/v0/ai/otel/", False)):
        headers = {**PROTOBUF, **_auth(env_a)}
        sent = body
        if compress:
            sent, headers["Content-Encoding"] = gzip.compress(body), "gzip"
        r = await client.post(path, content=sent, headers=headers)
        assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf", path
        assert not ExportTraceServiceResponse.FromString(r.content).HasField("partial_success")
    [event] = await stored(client, env_a)  # the same span three times: stored once
    assert event["event"] == "$ai_generation" and event["distinct_id"] == "pb-user"
    assert event["properties"]["$ai_input"] == [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_partial_success_counts_refused_spans(client, env_a) -> None:  # noqa: ANN001
    doc = payload("semconv")["traces"]
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[1]["traceId"] = ""  # no trace id: refused
    spans[2]["attributes"].append({"key": "$ai_input_tokens", "value": {"stringValue": "many"}})  # not a number
    spans[3]["attributes"].append({"key": "score", "value": {"doubleValue": "NaN"}})  # kept, as text
    answer = await export(client, env_a, "traces", doc)
    partial = answer["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 2
    assert "no valid trace id" in partial["errorMessage"] and "$ai_input_tokens" in partial["errorMessage"]
    events = {e["event"]: e for e in await stored(client, env_a)}
    assert set(events) == {"$ai_trace", "$ai_embedding"} and events["$ai_embedding"]["properties"]["score"] == "nan"


@sqlite_only
async def test_log_partial_success_and_protobuf_answer(client, env_a) -> None:  # noqa: ANN001
    doc = payload("log_details")["logs"]
    doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["spanId"] = ""
    answer = await export(client, env_a, "logs", doc)
    assert int(answer["partialSuccess"]["rejectedLogRecords"]) == 1
    assert "span id" in answer["partialSuccess"]["errorMessage"]
    r = await client.post("/v1/logs", content=b"", headers={**PROTOBUF, **_auth(env_a)})  # an empty request is valid
    assert r.status_code == 200 and ExportLogsServiceResponse.FromString(r.content) == ExportLogsServiceResponse()


BAD_REQUESTS = [
    ({"Content-Type": "text/plain"}, b"x", 415, "Content-Type 'text/plain'"),
    ({"Content-Type": "application/json", "Content-Encoding": "br"}, b"{}", 415, "Content-Encoding 'br'"),
    ({"Content-Type": "application/json"}, b"{not json", 400, "not valid JSON"),
    ({"Content-Type": "application/json"}, b"[1, 2]", 400, "JSON object"),
    ({"Content-Type": "application/json"}, b'{"resourceSpans": 3, "resourceLogs": 3}', 400, "not a valid OTLP JSON"),
    ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, b"{}", 400, "gzip"),
    ({"Content-Type": "application/x-protobuf"}, b"\x0a\xff\xff\xff", 400, "protobuf"),
]


@sqlite_only
async def test_bad_requests(client, env_a) -> None:  # noqa: ANN001
    for headers, body, status, says in BAD_REQUESTS:
        for path in ("/v1/traces", "/v1/logs"):
            r = await client.post(path, content=body, headers={**headers, **_auth(env_a)})
            assert r.status_code == status, (path, body, r.text)
            if r.headers["content-type"] == "application/json":
                assert says in r.json()["message"], r.text
            else:  # a google.rpc.Status in protobuf
                assert says.encode() in r.content
    bomb = gzip.compress(b"{" + b" " * (65 * 1024 * 1024) + b"}", compresslevel=1)
    r = await client.post(
        "/v1/traces",
        content=bomb,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip", **_auth(env_a)},
    )
    assert r.status_code == 400 and "limit" in r.json()["message"]


@sqlite_only
async def test_the_project_token_is_required(client, env_a) -> None:  # noqa: ANN001
    body = json.dumps(payload("semconv")["traces"])
    json_type = {"Content-Type": "application/json"}
    assert (await client.post("/v1/traces", content=body, headers=json_type)).status_code == 401
    wrong = {**json_type, "Authorization": "Bearer phc_unknown"}
    r = await client.post("/v1/traces", content=body, headers=wrong)
    assert r.status_code == 401 and r.json()["code"] == 16
    r = await client.post("/v1/traces", content=body, headers={**json_type, "Authorization": f"Bearer {env_a.key}"})
    assert r.status_code == 401  # a personal API key is not a project token
    r = await client.post(f"/v1/traces?token={env_a.project_token}", content=body, headers=json_type)
    assert r.status_code == 200 and len(await stored(client, env_a)) == 4
