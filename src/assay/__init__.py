"""Assay: evaluate LLM applications and agents.

`assay.Client` and `assay.AsyncClient` are the Python SDK (they need only httpx and pydantic); the server
lives in the subpackages and needs the `server` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from assay.client import (
        APIConnectionError,
        APIError,
        APITimeoutError,
        AssayError,
        AsyncClient,
        AuthenticationError,
        Client,
        ConflictError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        RunTimeoutError,
        ServerError,
        ValidationError,
    )

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AssayError",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConflictError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RunTimeoutError",
    "ServerError",
    "ValidationError",
    "__version__",
]


def __getattr__(name: str) -> object:
    """The SDK's names, imported on first use: the `assay` command and the server start without httpx."""
    if name in __all__:
        import assay.client

        return getattr(assay.client, name)
    raise AttributeError(f"module 'assay' has no attribute {name!r}")
