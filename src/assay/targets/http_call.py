"""Calling an `http` instance: one long-lived `httpx.AsyncClient` per base URL, retries, response mapping."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from assay.domain.outcomes import ToolCall
from assay.providers.datatypes import RetryPolicy
from assay.providers.errors import error_for_status, scrub
from assay.providers.limiter import AdaptiveLimiter
from assay.providers.retry import call_with_retries, retry_after_from_headers
from assay.targets.jsonpath import MISSING, resolve
from assay.targets.spec import HttpSpec
from assay.targets.template import render
from assay.targets.types import InstanceError, InstanceReply

_RETRYABLE_STATUS = frozenset({408, 409, 425, 429})
_BODY_SNIPPET = 200


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def public_url(url: str) -> str:
    """The URL without credentials, query or fragment (fit for messages)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class HttpClientRegistry:
    """One `httpx.AsyncClient` per base URL (scheme, host, port) and one AIMD limiter per instance URL.

    Bound to the event loop that first used it; on a new loop it starts afresh.
    """

    def __init__(self, *, rng: random.Random | None = None) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._limiters: dict[str, AdaptiveLimiter] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.rng = rng or random.Random()

    def _check_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._clients.clear()
            self._limiters.clear()
            self._loop = loop

    def client(self, spec: HttpSpec) -> httpx.AsyncClient:
        """The long-lived client for the spec's base URL (pool sized to its concurrency)."""
        self._check_loop()
        key = _origin(spec.url)
        client = self._clients.get(key)
        if client is None:
            size = spec.max_concurrency
            limits = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=30.0)
            client = self._clients[key] = httpx.AsyncClient(limits=limits, follow_redirects=False)
        return client

    def limiter(self, spec: HttpSpec) -> AdaptiveLimiter:
        """The concurrency limiter for the spec's URL."""
        self._check_loop()
        limiter = self._limiters.get(spec.url)
        if limiter is None:
            limiter = self._limiters[spec.url] = AdaptiveLimiter(spec.max_concurrency)
        return limiter

    async def aclose(self) -> None:
        """Close every client (call at shutdown)."""
        clients = list(self._clients.values())
        self._clients.clear()
        self._limiters.clear()
        for client in clients:
            try:
                await client.aclose()
            except Exception:  # closing on a finished loop must not mask shutdown
                pass


_registry: HttpClientRegistry | None = None


def get_http_clients() -> HttpClientRegistry:
    """The process-wide HTTP client registry."""
    global _registry
    if _registry is None:
        _registry = HttpClientRegistry()
    return _registry


async def close_http_clients() -> None:
    """Close and forget the process-wide HTTP client registry."""
    global _registry
    registry, _registry = _registry, None
    if registry is not None:
        await registry.aclose()


def _fail(spec: HttpSpec, message: str, **kw: Any) -> InstanceError:
    for secret in spec.secret_values():
        message = scrub(message, secret)
    return InstanceError(scrub(message), **kw)


def _status_error(spec: HttpSpec, response: httpx.Response) -> InstanceError:
    status = response.status_code
    kind = error_for_status(status).kind
    snippet = response.text[:_BODY_SNIPPET].strip()
    message = f"The instance at {public_url(spec.url)} returned HTTP {status}" + (f": {snippet}" if snippet else ".")
    return _fail(spec, message, kind=kind, status_code=status, retry_after=retry_after_from_headers(response.headers))


def _retryable(error: InstanceError) -> bool:
    if error.kind in ("timeout", "connection"):
        return True
    code = error.status_code
    return code is not None and (code in _RETRYABLE_STATUS or code >= 500)


async def call_http(
    spec: HttpSpec,
    values: dict[str, Any],
    *,
    retry: RetryPolicy | None = None,
    registry: HttpClientRegistry | None = None,
) -> InstanceReply:
    """Render the body, call the endpoint (retrying 429/5xx/timeouts) and map the response."""
    registry = registry or get_http_clients()
    policy = retry or RetryPolicy(timeout=spec.timeout_s)
    timeout = policy.timeout or spec.timeout_s
    client = registry.client(spec)
    limiter = registry.limiter(spec)
    headers = {"content-type": "application/json", "accept": "application/json", **spec.header_values()}
    rendered = render(spec.body_template, values)
    content = None if spec.method == "GET" else orjson.dumps(rendered)
    params = {k: str(v) for k, v in rendered.items()} if spec.method == "GET" and isinstance(rendered, dict) else None

    async def attempt() -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                response = await client.request(
                    spec.method, spec.url, content=content, params=params, headers=headers, timeout=timeout
                )
        except (TimeoutError, httpx.TimeoutException):
            message = f"The instance at {public_url(spec.url)} timed out after {timeout:g}s."
            raise _fail(spec, message, kind="timeout") from None
        except httpx.TransportError as exc:
            message = f"Could not connect to the instance at {public_url(spec.url)}: {type(exc).__name__}"
            raise _fail(spec, message + (f": {exc}" if str(exc) else "."), kind="connection") from None
        if not response.is_success:
            raise _status_error(spec, response)
        return response, (time.perf_counter() - started) * 1000.0

    (response, latency_ms), attempts = await call_with_retries(
        attempt, policy=policy, limiter=limiter, failure=InstanceError, retryable=_retryable, rng=registry.rng
    )
    return parse_reply(spec, response, latency_ms, attempts)


def parse_reply(spec: HttpSpec, response: httpx.Response, latency_ms: float, attempts: int = 1) -> InstanceReply:
    """Map a successful response to an `InstanceReply` through the spec's JSON paths."""
    mapping = spec.response
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        if mapping.text == "$" and mapping.tool_calls is None and mapping.tokens is None:
            return InstanceReply(text=response.text, latency_ms=latency_ms, attempts=attempts)
        raise _fail(
            spec,
            f"The instance at {public_url(spec.url)} answered HTTP {response.status_code} with a body that is not "
            f"JSON, but the response mapping needs JSON.",
            kind="invalid_response",
            status_code=response.status_code,
            attempts=attempts,
        ) from None
    text_value = resolve(body, mapping.steps("text") or ())
    if text_value is MISSING:
        raise _mapping_error(spec, "text", mapping.text, body, attempts)
    if text_value is None:
        text = ""
    elif isinstance(text_value, str):
        text = text_value
    else:
        text = orjson.dumps(text_value).decode()
    tool_calls = _tool_calls(spec, body, attempts)
    tokens = _tokens(spec, body, attempts)
    return InstanceReply(text=text, tool_calls=tool_calls, tokens=tokens, latency_ms=latency_ms, attempts=attempts)


def _mapping_error(
    spec: HttpSpec, field: str, path: str | None, body: Any, attempts: int, why: str = ""
) -> InstanceError:
    if not why:
        keys = sorted(body)[:10] if isinstance(body, dict) else None
        why = "was not found in the response" + (f" (top-level keys: {', '.join(map(str, keys))})" if keys else "")
    message = f"Response mapping {field}={path!r} {why}."
    return _fail(spec, message, kind="mapping", attempts=attempts)


def _arguments(value: Any) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {"_raw": value}
    return value if isinstance(value, dict) else {"_value": value}


def _tool_calls(spec: HttpSpec, body: Any, attempts: int) -> list[ToolCall]:
    steps = spec.response.steps("tool_calls")
    if steps is None:
        return []
    path = spec.response.tool_calls
    value = resolve(body, steps)
    if value is MISSING or value is None:
        return []
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise _mapping_error(spec, "tool_calls", path, body, attempts, "is a string that is not JSON") from None
    if not isinstance(value, list):
        raise _mapping_error(spec, "tool_calls", path, body, attempts, f"is a {type(value).__name__}, not a list")
    calls = []
    for index, item in enumerate(value):
        function = item.get("function") if isinstance(item, dict) and isinstance(item.get("function"), dict) else item
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name:
            why = f"item {index} has no tool name (expected {{name, arguments}})"
            raise _mapping_error(spec, "tool_calls", path, body, attempts, why)
        calls.append(ToolCall(name=name, arguments=_arguments(function.get("arguments"))))
    return calls


def _tokens(spec: HttpSpec, body: Any, attempts: int) -> int | None:
    steps = spec.response.steps("tokens")
    if steps is None:
        return None
    value = resolve(body, steps)
    if value is MISSING or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        why = f"is a {type(value).__name__}, not a number"
        raise _mapping_error(spec, "tokens", spec.response.tokens, body, attempts, why)
    try:
        return int(float(value))
    except ValueError:
        raise _mapping_error(spec, "tokens", spec.response.tokens, body, attempts, "is not a number") from None
