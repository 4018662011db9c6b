"""Provider errors: one hierarchy for every SDK, each with a `kind` a caller can branch on.

    ProviderError
    ├── RateLimitError        kind=rate_limit    retryable (honours retry_after)
    ├── QuotaExceededError    kind=quota
    ├── ServerError           kind=server_error  retryable
    ├── ProviderTimeoutError  kind=timeout       retryable
    ├── ProviderConnectionError kind=connection  retryable
    ├── AuthenticationError   kind=auth
    ├── PermissionDeniedError kind=permission
    ├── ModelNotFoundError    kind=not_found     (usually an unknown model)
    ├── BadRequestError       kind=bad_request
    └── ParseError            kind=parse_error   retryable (the model may answer well next time)

Messages are fit to show a user: they never contain the API key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any, ClassVar, Literal

from assay.providers.retry import retry_after_from_headers

ErrorKind = Literal[
    "rate_limit",
    "server_error",
    "timeout",
    "connection",
    "auth",
    "permission",
    "not_found",
    "bad_request",
    "quota",
    "parse_error",
]

_KEYISH = re.compile(r"\b(sk|pk|key|sess|ak)[-_][A-Za-z0-9_\-*]{6,}")


def scrub(text: str, secret: str | None = None) -> str:
    """Remove `secret` and anything that looks like an API key from `text`."""
    if secret:
        text = text.replace(secret, "***")
        if len(secret) > 8:
            text = text.replace(secret[:8], "***")
    return _KEYISH.sub("***", text)


class ProviderError(Exception):
    """An LLM call failed; `kind` says why and `retryable` whether trying again may help."""

    kind: ClassVar[ErrorKind] = "server_error"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        provider: str | None = None,
        model: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after
        self.provider = provider
        self.model = model
        self.code = code
        self.attempts = 1

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, status_code={self.status_code!r}, message={self.message!r})"


class RateLimitError(ProviderError):
    kind = "rate_limit"
    retryable = True


class QuotaExceededError(ProviderError):
    kind = "quota"


class ServerError(ProviderError):
    kind = "server_error"
    retryable = True


class ProviderTimeoutError(ProviderError):
    kind = "timeout"
    retryable = True


class ProviderConnectionError(ProviderError):
    kind = "connection"
    retryable = True


class AuthenticationError(ProviderError):
    kind = "auth"


class PermissionDeniedError(ProviderError):
    kind = "permission"


class ModelNotFoundError(ProviderError):
    """HTTP 404 from the model endpoint: usually an unknown model, else a wrong base URL."""

    kind = "not_found"


class BadRequestError(ProviderError):
    kind = "bad_request"


class ParseError(ProviderError):
    kind = "parse_error"
    retryable = True


def error_for_status(status: int, code: str | None = None, body_type: str | None = None) -> type[ProviderError]:
    """The error class for an HTTP status (and the body's error code/type where it matters)."""
    if status == 429:
        if code == "insufficient_quota" or body_type == "insufficient_quota":
            return QuotaExceededError
        return RateLimitError
    if status in (401,):
        return AuthenticationError
    if status == 402:
        return QuotaExceededError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return ModelNotFoundError
    if status == 408:
        return ProviderTimeoutError
    if status in (409, 425) or status >= 500:
        return ServerError
    return BadRequestError


DetailReader = Callable[[Any, dict[str, Any]], str | None]
"""The human-readable detail of an error body, from the raw body and its unwrapped error object."""

ClassRefiner = Callable[[type[ProviderError], int, str | None, str | None], type[ProviderError]]
"""Adjusts the status's error class from the status, the body's error type and the detail."""


def message_detail(raw: Any, body: dict[str, Any]) -> str | None:
    """The error object's `message`, if it is a string."""
    detail = body.get("message")
    return detail if isinstance(detail, str) else None


def status_error(
    exc: Any,
    *,
    provider: str,
    model: str,
    secret: str | None,
    detail: DetailReader = message_detail,
    refine: ClassRefiner | None = None,
    code_field: str = "code",
    retry_after_statuses: Collection[int] = (429, 503),
) -> ProviderError:
    """The `ProviderError` for an SDK's HTTP status exception (`status_code`, `body`, `response.headers`).

    The body's `{"error": {...}}` object (or the body itself) gives the error `type` and the `code_field` that
    is reported as the error's `code`; `refine` lets an adapter correct the class for its provider's statuses.
    A `Retry-After` is read only on `retry_after_statuses`. The message never contains `secret`.
    """
    body = exc.body if isinstance(exc.body, dict) else {}
    if isinstance(body.get("error"), dict):
        body = body["error"]
    text = detail(exc.body, body)
    code = body.get(code_field) if isinstance(body.get(code_field), str) else None
    body_type = body.get("type") if isinstance(body.get("type"), str) else None
    status = int(exc.status_code)
    cls = error_for_status(status, code, body_type)
    if refine is not None:
        cls = refine(cls, status, body_type, text)
    message = scrub(f"The model endpoint returned HTTP {status}" + (f": {text}" if text else "."), secret)
    retry_after = retry_after_from_headers(exc.response.headers) if status in retry_after_statuses else None
    return cls(message, status_code=status, retry_after=retry_after, provider=provider, model=model, code=code)
