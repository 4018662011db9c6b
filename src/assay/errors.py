"""Errors raised by Assay's domain and storage layers; the HTTP edge maps them to responses.

DomainError
├── ResourceNotFound     the object does not exist in this environment (404)
├── ValidationFailed     the input is invalid; carries the field it concerns (400 / 422)
├── ConflictError        the request conflicts with the current state (409)
└── AuthError            missing or bad credentials (401) or not allowed (403)
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class of the server's own errors (the SDK raises `assay.AssayError` and its subclasses)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResourceNotFound(DomainError):
    """The object does not exist (or belongs to another environment)."""


class ValidationFailed(DomainError):
    """The input is invalid. `attr` names the field, `code` a machine-readable reason."""

    def __init__(self, message: str, *, attr: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.attr = attr
        self.code = code


class ConflictError(DomainError):
    """The request conflicts with the current state of the object."""


class AuthError(DomainError):
    """Authentication (401) or authorisation (403) failed."""

    def __init__(self, message: str, *, status_code: int, code: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
