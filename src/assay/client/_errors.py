"""The SDK's exceptions. Catch `AssayError` for everything the client raises.

```
AssayError
├── APIConnectionError          the request did not get an answer (DNS, refused, reset, …)
│   └── APITimeoutError         … because a timeout elapsed
├── RunTimeoutError             `Client.run(wait=True, timeout=…)` gave up waiting (the run goes on)
└── APIError                    the server answered with an error status
    ├── ValidationError         400 / 422: the request was refused; `attr` and `loc` name the field
    ├── AuthenticationError     401: no key, or an unknown or revoked one
    ├── PermissionDeniedError   403: the key lacks a scope, or belongs to another environment
    ├── NotFoundError           404
    ├── ConflictError           409
    ├── RateLimitError          429 (retried first, honouring Retry-After)
    └── ServerError             5xx (retried first on idempotent methods)
```
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from assay.client._models import Task

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AssayError",
    "AuthenticationError",
    "ConflictError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RunTimeoutError",
    "ServerError",
    "ValidationError",
]


class AssayError(Exception):
    """Base class of every exception the SDK raises."""


class APIConnectionError(AssayError):
    """No answer from the server: the connection failed or broke.

    Attributes:
        request: The request that failed.
    """

    def __init__(self, message: str, *, request: httpx.Request) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APITimeoutError(APIConnectionError):
    """The connect, read, write or pool timeout elapsed."""


class RunTimeoutError(AssayError, TimeoutError):
    """`run(wait=True, timeout=…)` stopped waiting; the run itself is not cancelled.

    Attributes:
        task: The task as last seen.
    """

    def __init__(self, message: str, *, task: Task) -> None:
        super().__init__(message)
        self.task = task


class APIError(AssayError):
    """The server answered with a 4xx or 5xx status.

    Attributes:
        status_code: The HTTP status.
        body: The decoded JSON body (or the text, or None when empty).
        message: A human-readable summary taken from the body.
        response: The `httpx.Response`.
    """

    def __init__(self, message: str, *, response: httpx.Response, body: Any) -> None:
        super().__init__(f"{response.status_code}: {message}")
        self.message = message
        self.status_code = response.status_code
        self.body = body
        self.response = response


class ValidationError(APIError):
    """400 (`/api/…`, `{"type","code","detail","attr"}`) or 422 (`/v1/…`, `{"detail": [{"loc","msg","type"}]}`).

    Attributes:
        attr: The offending field as the analytics surface names it (`model_configuration__model`), or None.
        loc: The field's location as FastAPI names it (`("body", "name")`), or None.
        code: The error code (`required`, `invalid`, `missing`, …), when the body gives one.
        errors: Every error of a 422 body (a 400 body holds one).
    """

    def __init__(self, message: str, *, response: httpx.Response, body: Any) -> None:
        super().__init__(message, response=response, body=body)
        self.attr: str | None = None
        self.loc: tuple[str | int, ...] | None = None
        self.code: str | None = None
        self.errors: list[dict[str, Any]] = []
        if isinstance(body, dict):
            detail, error = body.get("detail"), body.get("error")
            if isinstance(detail, list) and detail and isinstance(detail[0], dict):
                self.errors = [e for e in detail if isinstance(e, dict)]
                first = self.errors[0]
                self.loc = tuple(first.get("loc") or ()) or None
                self.code = first.get("type")
                self.attr = _attr_from_loc(self.loc)
            elif "attr" in body or "code" in body:
                self.attr = body.get("attr")
                self.code = body.get("code")
                self.loc = ("body", *self.attr.split("__")) if self.attr else None
                self.errors = [body]
            elif isinstance(error, dict) and error:
                self.attr = str(next(iter(error)))
                self.loc = ("body", self.attr)
                self.errors = [{"attr": k, "messages": v} for k, v in error.items()]


class AuthenticationError(APIError):
    """401: the key is missing, unknown or revoked."""


class PermissionDeniedError(APIError):
    """403: the key lacks the scope, or the path names another environment."""


class NotFoundError(APIError):
    """404: no such object in the key's environment (or it is soft-deleted)."""


class ConflictError(APIError):
    """409: the request conflicts with the current state."""


class RateLimitError(APIError):
    """429: too many requests.

    Attributes:
        retry_after: Seconds the server asked to wait, when it said.
    """

    def __init__(self, message: str, *, response: httpx.Response, body: Any) -> None:
        super().__init__(message, response=response, body=body)
        self.retry_after = parse_retry_after(response.headers.get("retry-after"))


class ServerError(APIError):
    """5xx: the server failed."""


def _attr_from_loc(loc: tuple[str | int, ...] | None) -> str | None:
    if not loc:
        return None
    parts = loc[1:] if loc[0] in {"body", "query", "path", "header"} else loc
    names = [str(p) for p in parts if not isinstance(p, int)]
    return "__".join(names) or None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _message(body: Any, response: httpx.Response) -> str:
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, str) and detail:
            attr = body.get("attr")
            return f"{attr}: {detail}" if attr else detail
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            parts = []
            for err in detail[:3]:
                loc = ".".join(str(p) for p in err.get("loc") or ())
                parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
            more = f" (+{len(detail) - 3} more)" if len(detail) > 3 else ""
            return "; ".join(parts) + more
        error = body.get("error")
        if isinstance(error, str):
            return error
        if isinstance(error, dict) and error:
            return "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in error.items())
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return response.reason_phrase or "error"


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def error_from_response(response: httpx.Response) -> APIError:
    """The exception for an error response (its body must have been read)."""
    body: Any
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    status = response.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    return cls(_message(body, response), response=response, body=body)
