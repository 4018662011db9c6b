"""The provider adapter interface: one long-lived SDK client, one `chat` coroutine."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from assay.providers.datatypes import ChatRequest, ChatResult, EndpointConfig


class ProviderAdapter(ABC):
    """Calls one provider's API through its official SDK and maps its errors to `ProviderError`.

    One adapter (and one SDK client with a connection pool) exists per provider, base URL and key.
    """

    name: ClassVar[str]

    def __init__(self, endpoint: EndpointConfig) -> None:
        self.endpoint = endpoint

    @abstractmethod
    async def chat(self, model: str, request: ChatRequest, *, timeout: float | None) -> ChatResult:
        """Make one attempt; raise a `ProviderError` on failure."""

    @abstractmethod
    async def aclose(self) -> None:
        """Close the SDK client and its connections."""

    def pool_limits(self) -> Any:
        """Connection limits for the SDK's httpx client, sized to the endpoint's concurrency."""
        try:
            import httpx2 as httpx_module  # the SDKs' own httpx fork, when they use one
        except ImportError:  # pragma: no cover - older SDKs use httpx
            import httpx as httpx_module  # type: ignore[no-redef]
        size = max(1, self.endpoint.max_concurrency)
        return httpx_module.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=30.0)


def estimate_tokens(request: ChatRequest) -> int:
    """A cheap guess of a request's tokens (about four characters each) for the TPM budget."""
    chars = 0
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    chars += len(part["text"])
    return chars // 4 + 4 * len(request.messages) + (request.max_tokens or 256)
