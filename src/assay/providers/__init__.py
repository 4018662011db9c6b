"""LLM provider adapters with per-endpoint concurrency, rate budgets and retries.

registry = get_registry()
result = await registry.chat(EndpointConfig(model="gpt-4o-mini", api_key=key), ChatRequest(messages=[...]))
"""

from assay.providers.base import ProviderAdapter
from assay.providers.budget import KeyBudget, TokenBucket
from assay.providers.datatypes import ChatRequest, ChatResult, EndpointConfig, ResponseFormat, RetryPolicy
from assay.providers.errors import (
    AuthenticationError,
    BadRequestError,
    ModelNotFoundError,
    ParseError,
    PermissionDeniedError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)
from assay.providers.limiter import AdaptiveLimiter
from assay.providers.registry import ProviderRegistry, close_registry, get_registry, register_adapter
from assay.providers.structured import strip_code_fences

__all__ = [
    "AdaptiveLimiter",
    "AuthenticationError",
    "BadRequestError",
    "ChatRequest",
    "ChatResult",
    "EndpointConfig",
    "KeyBudget",
    "ModelNotFoundError",
    "ParseError",
    "PermissionDeniedError",
    "ProviderAdapter",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderRegistry",
    "ProviderTimeoutError",
    "QuotaExceededError",
    "RateLimitError",
    "ResponseFormat",
    "RetryPolicy",
    "ServerError",
    "TokenBucket",
    "close_registry",
    "get_registry",
    "register_adapter",
    "strip_code_fences",
]
