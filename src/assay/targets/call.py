"""`call_instance`: send one case's input to the agent under test and read its reply."""

from __future__ import annotations

from typing import Any

from assay.providers.datatypes import ChatRequest, EndpointConfig, RetryPolicy
from assay.providers.errors import ProviderError, scrub
from assay.providers.registry import ProviderRegistry, get_registry
from assay.targets.http_call import HttpClientRegistry, call_http, close_http_clients, get_http_clients
from assay.targets.python_target import PythonSpec, call_python
from assay.targets.spec import HttpSpec, OpenAIChatSpec
from assay.targets.types import InstanceError, InstanceReply

__all__ = [
    "HttpClientRegistry",
    "InstanceError",
    "InstanceReply",
    "call_instance",
    "close_http_clients",
    "get_http_clients",
]


def case_values(input_message: str, case_fields: dict[str, Any]) -> dict[str, Any]:
    """The placeholder values of one case: `input_message`, `expected_behavior`, `tags`, `metadata`, `messages`."""
    return {
        "input_message": input_message,
        "expected_behavior": case_fields.get("expected_behavior"),
        "tags": case_fields.get("tags") or [],
        "metadata": case_fields.get("metadata") or {},
        "messages": [{"role": "user", "content": input_message}],
    }


def chat_request(
    spec: OpenAIChatSpec, input_message: str, conversation: list[dict[str, Any]] | None = None
) -> ChatRequest:
    """The chat request for one case: the system prompt, the user message (or the whole `conversation`, whose
    own system message replaces the instance's), tools and parameters."""
    messages: list[dict[str, Any]] = []
    if spec.system_prompt and not (conversation and conversation[0].get("role") == "system"):
        messages.append({"role": "system", "content": spec.system_prompt})
    if conversation is None:
        messages.append({"role": "user", "content": input_message})
    else:
        messages.extend(conversation)
    params = spec.parameters
    extra = {k: v for k, v in params.model_dump(exclude={"temperature", "max_tokens"}).items() if v is not None}
    return ChatRequest(
        messages=messages,
        tools=[tool.model_dump(exclude_none=True) for tool in spec.tools] or None,
        temperature=params.temperature,
        max_tokens=params.max_tokens,
        extra=extra or None,
    )


def endpoint_config(spec: OpenAIChatSpec) -> EndpointConfig:
    """The provider endpoint for an `openai_chat` instance (shares the registry's client, limiter and budget)."""
    return EndpointConfig(
        model=spec.model,
        provider="openai",
        base_url=spec.base_url,
        api_key=spec.api_key.get_secret_value() if spec.api_key is not None else None,
        max_concurrency=spec.max_concurrency,
        rpm=spec.requests_per_minute,
        tpm=spec.tokens_per_minute,
    )


async def _call_openai(
    spec: OpenAIChatSpec,
    input_message: str,
    retry: RetryPolicy | None,
    registry: ProviderRegistry | None,
    conversation: list[dict[str, Any]] | None = None,
) -> InstanceReply:
    policy = retry or RetryPolicy(timeout=spec.timeout_s)
    try:
        result = await (registry or get_registry()).chat(
            endpoint_config(spec), chat_request(spec, input_message, conversation), retry=policy
        )
    except ProviderError as exc:
        message = str(exc)
        for secret in spec.secret_values():
            message = scrub(message, secret)
        raise InstanceError(scrub(message), kind=exc.kind, status_code=exc.status_code, attempts=exc.attempts) from None
    return InstanceReply(
        text=result.text,
        tool_calls=result.tool_calls,
        tokens=result.total_tokens or None,
        latency_ms=result.latency_ms,
        attempts=result.attempts,
        message=result.message,
    )


async def call_instance(
    spec: OpenAIChatSpec | HttpSpec | PythonSpec,
    input_message: str,
    case_fields: dict[str, Any],
    *,
    retry: RetryPolicy | None = None,
    providers: ProviderRegistry | None = None,
    http_clients: HttpClientRegistry | None = None,
    conversation: list[dict[str, Any]] | None = None,
) -> InstanceReply:
    """Call the instance with one case; raise `InstanceError` (never showing a secret) when it fails.

    `case_fields` may hold `expected_behavior`, `tags` and `metadata` (used by `http` body templates).
    `retry` overrides the default policy (4 attempts, backoff with jitter, `timeout_s` per attempt).
    `conversation` is the whole conversation so far (OpenAI chat format, ending with the turn to answer):
    `openai_chat` instances get it as their messages, `http` ones as `{{messages}}`, `python` ones as the
    case's `messages`; `input_message` is then the latest user turn.
    """
    if isinstance(spec, OpenAIChatSpec):
        return await _call_openai(spec, input_message, retry, providers, conversation)
    values = case_values(input_message, case_fields)
    if conversation is not None:
        values["messages"] = conversation
        if case_fields.get("mocked_tools"):
            values["mocked_tools"] = case_fields["mocked_tools"]
    if isinstance(spec, PythonSpec):
        return await call_python(spec, input_message, values)
    return await call_http(spec, values, retry=retry, registry=http_clients)
