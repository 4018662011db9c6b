"""Assay: evaluate LLM applications and agents.

`assay.Client` and `assay.AsyncClient` are the Python SDK (they need only httpx and pydantic); the server
lives in the subpackages and needs the `server` extra.
"""

__version__ = "0.1.0"

from assay.client import (  # noqa: E402  (after __version__, which the client reads)
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
