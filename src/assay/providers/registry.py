"""The process-wide registry: SDK clients, concurrency limiters and rate budgets, and `chat()` that uses them."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from functools import partial

from assay.providers.base import ProviderAdapter, estimate_tokens
from assay.providers.budget import KeyBudget, SharedKeyBudget
from assay.providers.datatypes import ChatRequest, ChatResult, EndpointConfig, RetryPolicy
from assay.providers.errors import BadRequestError, ProviderError, ProviderTimeoutError
from assay.providers.limiter import AdaptiveLimiter
from assay.providers.retry import call_with_retries

AdapterFactory = Callable[[EndpointConfig], ProviderAdapter]
BudgetFactory = Callable[[EndpointConfig], SharedKeyBudget | None]
"""Builds the budget of an endpoint's key shared by every process (e.g. `engine/queue/budgets.py`)."""

DEFAULT_RETRY = RetryPolicy()

OPENAI_COMPATIBLE = frozenset(
    {
        "openai",
        "azure",
        "azure_openai",
        "vllm",
        "ollama",
        "lmstudio",
        "openrouter",
        "fireworks",
        "together",
        "groq",
        "deepseek",
        "gemini",
        "google",
        "mistral",
        "openai_compatible",
    }
)


def _openai(endpoint: EndpointConfig) -> ProviderAdapter:
    from assay.providers.openai_adapter import OpenAIAdapter

    return OpenAIAdapter(endpoint)


def _anthropic(endpoint: EndpointConfig) -> ProviderAdapter:
    from assay.providers.anthropic_adapter import AnthropicAdapter

    return AnthropicAdapter(endpoint)


_FACTORIES: dict[str, AdapterFactory] = dict.fromkeys(OPENAI_COMPATIBLE, _openai) | {"anthropic": _anthropic}


def register_adapter(provider: str, factory: AdapterFactory) -> None:
    """Make `provider` resolve to adapters built by `factory`."""
    _FACTORIES[provider.lower()] = factory


class ProviderRegistry:
    """Holds one adapter per (provider, base URL, key), one AIMD limiter per (provider, base URL, model) and one
    RPM/TPM budget per key, so every caller in the process shares them.

    Objects are bound to the event loop that first used them; on a new loop (e.g. a new test) they start afresh.
    """

    def __init__(self, *, rng: random.Random | None = None) -> None:
        self._adapters: dict[tuple[str, str, str], ProviderAdapter] = {}
        self._limiters: dict[tuple[str, str, str], AdaptiveLimiter] = {}
        self._budgets: dict[tuple[str, str, str, float | None, float | None], KeyBudget | SharedKeyBudget] = {}
        self._budget_factory: BudgetFactory | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rng = rng or random.Random()

    def _check_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._adapters.clear()
            self._limiters.clear()
            self._budgets.clear()
            self._loop = loop

    def adapter(self, endpoint: EndpointConfig) -> ProviderAdapter:
        """The long-lived adapter (and SDK client) for the endpoint's provider, base URL and key."""
        key = endpoint.client_key()
        adapter = self._adapters.get(key)
        if adapter is None:
            factory = _FACTORIES.get(endpoint.provider.lower())
            if factory is None:
                raise BadRequestError(f"Unknown provider {endpoint.provider!r}.", provider=endpoint.provider)
            adapter = self._adapters[key] = factory(endpoint)
        return adapter

    def limiter(self, endpoint: EndpointConfig) -> AdaptiveLimiter:
        """The AIMD limiter for the endpoint's base URL and model."""
        key = endpoint.limiter_key()
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = AdaptiveLimiter(
                endpoint.max_concurrency, min_limit=endpoint.min_concurrency
            )
        return limiter

    def share_budgets(self, factory: BudgetFactory | None) -> None:
        """Take every key's budget from `factory` (shared by the cluster) instead of this process's buckets."""
        self._budget_factory = factory
        self._budgets.clear()

    def budget(self, endpoint: EndpointConfig) -> KeyBudget | SharedKeyBudget | None:
        """The RPM/TPM budget of the endpoint's key, if it has limits.

        Keyed by the limits too: an instance whose limits were changed gets buckets of the new size (a cluster
        budget draws from the same shared rows, which take the new rate at the next draw)."""
        if not endpoint.rpm and not endpoint.tpm:
            return None
        key = (*endpoint.client_key(), endpoint.rpm, endpoint.tpm)
        budget = self._budgets.get(key)
        if budget is None:
            shared = self._budget_factory(endpoint) if self._budget_factory is not None else None
            budget = self._budgets[key] = shared or KeyBudget(endpoint.rpm, endpoint.tpm)
        return budget

    async def chat(
        self, endpoint: EndpointConfig, request: ChatRequest, *, retry: RetryPolicy | None = None
    ) -> ChatResult:
        """Call the model under the endpoint's limiter and budget, retrying per `retry`; raise `ProviderError`."""
        policy = retry or DEFAULT_RETRY
        if self._loop is not asyncio.get_running_loop():
            self._check_loop()
        adapter = self._adapters.get(endpoint.client_key()) or self.adapter(endpoint)
        limiter = self._limiters.get(endpoint.limiter_key()) or self.limiter(endpoint)
        budget = self.budget(endpoint) if endpoint.rpm or endpoint.tpm else None
        estimate = estimate_tokens(request) if budget is not None and budget.tokens is not None else 0
        model = endpoint.model

        async def attempt() -> ChatResult:
            try:
                if policy.timeout is None:
                    return await adapter.chat(model, request, timeout=None)
                async with asyncio.timeout(policy.timeout):
                    return await adapter.chat(model, request, timeout=policy.timeout)
            except TimeoutError:
                message = f"The request to {model} timed out after {policy.timeout:g}s."
                raise ProviderTimeoutError(message, provider=adapter.name, model=model) from None

        result, attempts = await call_with_retries(
            attempt,
            policy=policy,
            limiter=limiter,
            failure=ProviderError,
            retryable=lambda error: error.kind in policy.retry_on,
            before_attempt=partial(budget.acquire, estimate) if budget is not None else None,
            rng=self._rng,
        )
        if budget is not None:
            budget.settle(estimate, result.input_tokens + result.output_tokens)
        result.attempts = attempts
        return result

    async def aclose(self) -> None:
        """Close every SDK client (call at shutdown)."""
        adapters = list(self._adapters.values())
        self._adapters.clear()
        self._limiters.clear()
        self._budgets.clear()
        for adapter in adapters:
            try:
                await adapter.aclose()
            except Exception:  # closing on a finished loop must not mask shutdown
                pass


_registry: ProviderRegistry | None = None


def get_registry() -> ProviderRegistry:
    """The process-wide registry."""
    global _registry
    if _registry is None:
        _registry = ProviderRegistry()
    return _registry


async def close_registry() -> None:
    """Close and forget the process-wide registry."""
    global _registry
    registry, _registry = _registry, None
    if registry is not None:
        await registry.aclose()


def warm_up_sdks() -> None:
    """Import the OpenAI SDK and its chat types ahead of the first call (about a second of import work).

    Call it in a worker thread at server start, so the first run does not pay for it.
    """
    try:
        import openai.resources.chat.completions  # noqa: F401
        import openai.types.chat  # noqa: F401
        from openai import AsyncOpenAI  # noqa: F401
    except ImportError:  # the SDK is an optional dependency of the provider layer
        return
