"""Bodies sent by the real posthog-python SDK, captured over HTTP and decoded."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from posthog import Posthog

from assay.ingest.decode import decode_capture_request
from assay.ingest.events import normalize_batch


@dataclass
class Captured:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[Captured]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        url = urlsplit(self.path)
        self.server.captured.append(  # type: ignore[attr-defined]
            Captured(url.path, dict(parse_qsl(url.query)), {k.lower(): v for k, v in self.headers.items()}, body)
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": 1}')

    def do_GET(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[http.server.ThreadingHTTPServer]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    srv.captured = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _decode_all(captured: list[Captured]):  # type: ignore[no-untyped-def]
    out = []
    for c in captured:
        payload = decode_capture_request(
            c.body,
            content_type=c.headers.get("content-type"),
            content_encoding=c.headers.get("content-encoding"),
            query=c.query,
        )
        out.append((c, payload))
    return out


@pytest.mark.parametrize("gzip", [False, True])
@pytest.mark.parametrize("sync_mode", [False, True])
def test_python_sdk_bodies_decode(
    server: http.server.ThreadingHTTPServer, gzip: bool, sync_mode: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POSTHOG_CAPTURE_MODE", raising=False)
    client = Posthog(
        "phc_sdk_token",
        host=f"http://127.0.0.1:{server.server_port}",
        gzip=gzip,
        sync_mode=sync_mode,
        flush_at=100,
        flush_interval=0.05,
        max_retries=0,
    )
    ts = datetime(2025, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)
    ids = [
        client.capture("signed up", distinct_id="user-1", properties={"plan": "pro", "n": 3}, timestamp=ts),
        client.capture("no props", distinct_id=42),
        client.capture_ai(
            "$ai_generation",
            distinct_id="user-1",
            properties={
                "$ai_trace_id": "trace-abc",
                "$ai_input": [{"role": "user", "content": "hi"}],
                "$ai_output_choices": [{"role": "assistant", "content": "héllo"}],
                "$ai_input_tokens": 3,
                "$ai_latency": 0.5,
            },
        ),
    ]
    client.set(distinct_id="user-1", properties={"email": "a@b.test"})
    client.flush()
    client.shutdown()

    captured = server.captured  # type: ignore[attr-defined]
    assert captured, "the SDK sent nothing"
    for c in captured:
        assert c.headers["content-type"] == "application/json"
        assert (c.headers.get("content-encoding") == "gzip") is gzip
        assert c.body[:2] == b"\x1f\x8b" if gzip else c.body.startswith(b"{")
    assert {c.path for c in captured} == {"/batch/", "/i/v0/ai/batch/"}

    received = datetime.now(UTC)
    events = []
    for _c, payload in _decode_all(captured):
        assert payload.token == "phc_sdk_token"
        assert payload.sent_at is not None and abs(payload.sent_at - received) < timedelta(minutes=1)
        accepted, rejected = normalize_batch(payload.events, received_at=received, sent_at=payload.sent_at)
        assert rejected == []
        events.extend(accepted)

    by_uuid = {e.uuid: e for e in events}
    assert set(ids) <= set(by_uuid)
    signed = by_uuid[ids[0]]
    assert (signed.event, signed.distinct_id, signed.properties["plan"]) == ("signed up", "user-1", "pro")
    assert signed.properties["$lib"] == "posthog-python"
    # the skew correction is tiny here (sender and receiver share a clock)
    assert abs(signed.timestamp - ts) < timedelta(minutes=1)
    assert by_uuid[ids[1]].distinct_id == "42" and by_uuid[ids[1]].uuid_generated is False
    gen = by_uuid[ids[2]]
    assert gen.event == "$ai_generation" and gen.trace_id == "trace-abc" and gen.warnings == ()
    assert gen.properties["$ai_output_choices"][0]["content"] == "héllo"
    identify = [e for e in events if e.event == "$set"]
    assert identify and identify[0].properties["$set"] == {"email": "a@b.test"}
