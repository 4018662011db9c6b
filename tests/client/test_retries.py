"""Retry policy and error decoding, with `httpx.MockTransport` (no server)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

import assay
from assay.client._errors import parse_retry_after

Handler = Callable[[httpx.Request], httpx.Response]
PAGE = {"count": 0, "next": None, "previous": None, "results": []}
TASK = {
    "task_id": "t",
    "evaluation_id": "e",
    "status": "queued",
    "progress": {"total": 1, "completed": 0, "errors": 0},
    "created_at": "2025-01-01T00:00:00Z",
    "summary": {},
}


def scripted(*answers: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


def make(handler: Handler, **kw: object) -> tuple[assay.Client, list[float]]:
    client = assay.Client("http://assay.test/prefix", "k-123", transport=httpx.MockTransport(handler), **kw)  # type: ignore[arg-type]
    sleeps: list[float] = []
    client._sleep = sleeps.append  # type: ignore[method-assign]
    return client, sleeps


def test_429_honours_retry_after_for_any_method() -> None:
    handler, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "2"}, json={"detail": "slow down"}),
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(200, json=TASK),
    )
    client, sleeps = make(handler)
    assert client.tasks.cancel("t").task_id == "t"
    assert sleeps == [2.0, 0.0] and len(seen) == 3 and all(r.method == "POST" for r in seen)
    assert seen[0].headers["authorization"] == "Bearer k-123"
    assert seen[0].url == "http://assay.test/prefix/v1/tasks/t/cancel"


def test_429_exhausted_raises_rate_limit_error() -> None:
    handler, seen = scripted(*[httpx.Response(429, headers={"Retry-After": "1"}, json={"detail": "no"})] * 3)
    client, sleeps = make(handler, max_retries=2)
    with pytest.raises(assay.RateLimitError) as err:
        client.suites.list()
    assert err.value.retry_after == 1.0 and err.value.status_code == 429 and len(seen) == 3 and sleeps == [1.0, 1.0]


def test_too_long_retry_after_is_not_waited_for() -> None:
    handler, seen = scripted(httpx.Response(429, headers={"Retry-After": "3600"}))
    client, sleeps = make(handler)
    with pytest.raises(assay.RateLimitError):
        client.suites.list()
    assert sleeps == [] and len(seen) == 1


def test_5xx_retried_with_backoff_on_get_only() -> None:
    handler, seen = scripted(httpx.Response(503), httpx.Response(500), httpx.Response(200, json=PAGE))
    client, sleeps = make(handler)
    assert client.datasets.list().count == 0
    assert len(seen) == 3 and len(sleeps) == 2 and 0 < sleeps[0] < sleeps[1] <= 1.0
    assert seen[0].url.path == "/prefix/api/environments/@current/datasets"

    handler, seen = scripted(httpx.Response(502, text="bad gateway"))
    client, sleeps = make(handler)
    with pytest.raises(assay.ServerError) as err:
        client.datasets.create("x")
    assert len(seen) == 1 and sleeps == [] and err.value.status_code == 502 and err.value.body == "bad gateway"

    handler, seen = scripted(httpx.Response(500))
    client, _ = make(handler)
    with pytest.raises(assay.ServerError):
        client.results.override("s", "r", 50)  # PATCH: not idempotent (overrides are appended)
    assert len(seen) == 1


def test_connection_errors() -> None:
    handler, seen = scripted(httpx.ConnectError("refused"), httpx.Response(201, json=TASK))
    client, sleeps = make(handler)
    assert client.tasks.cancel("t").status == "queued"  # refused before sending: safe to resend a POST
    assert len(seen) == 2 and len(sleeps) == 1

    handler, seen = scripted(httpx.ReadError("reset"))
    client, _ = make(handler)
    with pytest.raises(assay.APIConnectionError) as err:
        client.tasks.cancel("t")  # the POST may have arrived: not resent
    assert len(seen) == 1 and not isinstance(err.value, assay.APITimeoutError)

    handler, seen = scripted(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"))
    client, _ = make(handler, max_retries=1)
    with pytest.raises(assay.APITimeoutError):
        client.tasks.get("t")  # GET: retried, then given up
    assert len(seen) == 2

    handler, seen = scripted(httpx.ReadTimeout("slow"), httpx.Response(200, json=TASK))
    client, _ = make(handler)
    assert client.tasks.get("t").task_id == "t"


def test_no_retries_when_disabled() -> None:
    handler, seen = scripted(httpx.Response(503))
    client, _ = make(handler, max_retries=0)
    with pytest.raises(assay.ServerError):
        client.suites.list()
    assert len(seen) == 1


async def test_async_retries() -> None:
    handler, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "0.5"}), httpx.Response(504), httpx.Response(200, json=[])
    )
    client = assay.AsyncClient("http://assay.test", "k", transport=httpx.MockTransport(handler))
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    client._sleep = record  # type: ignore[method-assign]
    async with client:
        assert await client.suites.list() == []
    assert len(seen) == 3 and sleeps[0] == 0.5


def test_error_bodies_and_statuses() -> None:
    cases = [
        (
            httpx.Response(401, json={"type": "authentication_error", "code": "x", "detail": "Invalid API key."}),
            assay.AuthenticationError,
            "Invalid API key.",
        ),
        (
            httpx.Response(403, json={"detail": "API key missing required scope 'dataset:write'"}),
            assay.PermissionDeniedError,
            "dataset:write",
        ),
        (httpx.Response(404, json={"detail": "Not found"}), assay.NotFoundError, "Not found"),
        (httpx.Response(409, json={"detail": "taken"}), assay.ConflictError, "taken"),
        (httpx.Response(405), assay.APIError, "Method Not Allowed"),
        (
            httpx.Response(400, json={"error": {"timestamp": ["Datetime has wrong format."]}}),
            assay.ValidationError,
            "timestamp: Datetime has wrong format.",
        ),
    ]
    for response, cls, text in cases:
        handler, _ = scripted(response)
        client, _ = make(handler)
        with pytest.raises(cls) as err:
            client.datasets.create("x")
        assert type(err.value) is cls and text in err.value.message
    handler, _ = scripted(httpx.Response(400, json={"error": {"timestamp": ["bad"]}}))
    client, _ = make(handler)
    with pytest.raises(assay.ValidationError) as verr:
        client.evaluation_runs.create("e", "t", "2025-01-01")
    assert verr.value.attr == "timestamp" and verr.value.loc == ("body", "timestamp")


def test_environment_and_update_semantics() -> None:
    handler, seen = scripted(httpx.Response(200, json=PAGE), httpx.Response(200, json=PAGE))
    client, _ = make(handler, environment_id="env-1")
    client.datasets.list(ids=["a", "b"], order_by=["-created_at", "updated_at"], search="q")
    url = seen[0].url
    assert url.path.endswith("/api/environments/env-1/datasets")
    assert url.params.get_list("order_by") == ["-created_at", "updated_at"] and url.params["id__in"] == "a,b"
    import json

    handler, seen = scripted(httpx.Response(400, json={"detail": "x"}))
    client, _ = make(handler)
    with pytest.raises(assay.ValidationError):
        client.datasets.update("d", description=None)
    assert json.loads(seen[0].content) == {"description": None}  # None is sent; NOT_GIVEN fields are left out


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0 and parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_constructor_checks() -> None:
    with pytest.raises(ValueError):
        assay.Client("http://x", "")
    with pytest.raises(ValueError):
        assay.Client("http://x", "k", max_retries=-1)
