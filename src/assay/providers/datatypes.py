"""Plain data passed through the provider layer (slotted dataclasses, cheap on the hot path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from assay.domain.outcomes import ToolCall


@dataclass(slots=True)
class EndpointConfig:
    """Where and how to call a model: provider, base URL, key, model, concurrency and budgets."""

    model: str
    provider: str = "openai"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    max_concurrency: int = 16
    """Starting (and maximum) in-flight requests for this base URL + model; also the connection-pool size."""
    min_concurrency: int = 1
    rpm: float | None = None
    """Requests per minute allowed on this key (shared by every endpoint using the key)."""
    tpm: float | None = None
    """Tokens per minute allowed on this key."""
    default_headers: dict[str, str] | None = None
    default_query: dict[str, str] | None = None
    """E.g. `{"api-version": "2024-10-21"}` for Azure-style endpoints."""

    def client_key(self) -> tuple[str, str, str]:
        """Identity of the SDK client: one per provider, base URL and key."""
        return (self.provider, self.base_url or "", self.api_key or "")

    def limiter_key(self) -> tuple[str, str, str]:
        """Identity of the concurrency limiter: one per provider, base URL and model."""
        return (self.provider, self.base_url or "", self.model)


@dataclass(slots=True)
class ResponseFormat:
    """Structured output: a JSON schema with a name; `schema=None` asks for any JSON object.

    `type="json_object"` with a schema sends `{"type": "json_object", "schema": …}` (llama.cpp's form; servers
    that do not know the key ignore it). With `decode=False` the adapter leaves `ChatResult.parsed` None and the
    caller decodes `text` itself (e.g. tolerantly).
    """

    name: str = "response"
    schema: dict[str, Any] | None = None
    strict: bool = True
    type: Literal["json_schema", "json_object"] = "json_schema"
    decode: bool = True


@dataclass(slots=True)
class ChatRequest:
    """One chat call. `messages` and `tools` use the OpenAI shapes whatever the provider."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    extra: dict[str, Any] | None = None
    """Extra body parameters passed through to the provider (e.g. `seed`, `top_p`)."""


@dataclass(slots=True)
class ChatResult:
    """What a chat call produced."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    finish_reason: str | None = None
    parsed: Any = None
    """The decoded JSON when `response_format` was given."""
    model: str | None = None
    message: dict[str, Any] | None = None
    """The assistant message in OpenAI shape (with tool call ids), to append to a conversation."""
    attempts: int = 1

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(slots=True)
class RetryPolicy:
    """Retries with exponential backoff and full jitter, honouring `Retry-After`, and a per-call timeout."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    """Longest `Retry-After` honoured; a longer one fails the call instead of sleeping."""
    timeout: float | None = 60.0
    """Seconds allowed for one attempt."""
    retry_on: frozenset[str] = frozenset({"rate_limit", "server_error", "timeout", "connection", "parse_error"})
