"""Scenario: how the fake LLM server behaves (replies, rules, latency, faults, auth)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from assay.testing.fake_llm.flavors import Flavor

MalformedMode = Literal["auto", "invalid_json", "schema_violation", "truncated"]


class Faults(BaseModel):
    """Fault injection rates (0..1), drawn from the scenario's seeded RNG once per request."""

    model_config = ConfigDict(extra="forbid")

    rate_429: float = 0.0
    """Share of requests answered 429 with a `Retry-After` header."""
    retry_after_s: float = 1.0
    """Value of `Retry-After` (seconds) on injected 429s."""
    rate_500: float = 0.0
    """Share of requests answered 500."""
    rate_timeout: float = 0.0
    """Share of requests held open for `timeout_s` seconds before a 504."""
    timeout_s: float = 30.0
    rate_malformed: float = 0.0
    """Share of requests answered with malformed output (see `malformed_mode`)."""
    malformed_mode: MalformedMode = "auto"
    """`auto`: invalid JSON content where JSON was asked, otherwise a truncated body."""

    def any(self) -> bool:
        return bool(self.rate_429 or self.rate_500 or self.rate_timeout or self.rate_malformed)


class Rule(BaseModel):
    """A matcher on the last user message (or system prompt) and what to answer when it matches.

    The first matching rule wins. `contains` is a substring match, `regex` a `re.search`; with neither,
    the rule matches every request (useful for a catch-all fault or error status).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    _pattern: re.Pattern[str] | None = PrivateAttr(default=None)

    contains: str | None = None
    regex: str | None = None
    target: Literal["user", "system", "any"] = "user"
    model: str | None = None
    """Only match requests for this model."""
    times: int | None = None
    """Apply to the first N matching requests only, then the rule is skipped."""

    reply: str | None = None
    """Reply text (OpenAI `content`, Anthropic text block)."""
    tool_calls: list[dict[str, Any]] | None = None
    """Tool calls to make, each `{"name": ..., "arguments": {...}}`; only when the request offers tools."""
    final_reply: str | None = None
    """Text answered after a `role: "tool"` result (default: `Done.` plus the tool output)."""
    turn: int | None = Field(default=None, ge=1)
    """Only match the n-th user turn of a conversation (see `agent_loop.py`)."""
    tool_steps: list[list[dict[str, Any]]] | None = None
    """Tool calls per step of an agent loop (see `agent_loop.py`)."""
    loop_tools: bool = False
    """Repeat `tool_calls` after every tool result (an agent that never stops)."""
    json_value: dict[str, Any] | None = Field(default=None, alias="json")
    """Values that override the synthesised JSON instance when JSON output was asked."""
    fence_json: bool = False
    """Wrap JSON content in a markdown code fence (as weak models do)."""
    usage: dict[str, int] | None = None
    """`{"prompt_tokens": n, "completion_tokens": m}` to report instead of the estimate."""
    latency_ms: float | None = None
    faults: Faults | None = None
    """Faults for matching requests, replacing the scenario-wide faults."""
    status: int | None = None
    """Answer this HTTP error status instead (401, 403, 404, 400, 429, 500 …)."""
    error_code: str | None = None
    """Error `code` in the body, e.g. `insufficient_quota` with status 429."""
    error_message: str | None = None

    @model_validator(mode="after")
    def _compile(self) -> Rule:
        self._pattern = re.compile(self.regex) if self.regex else None
        return self

    def matches(self, user: str, system: str, model: str) -> bool:
        if self.model is not None and self.model != model:
            return False
        if self.target == "user":
            text = user
        elif self.target == "system":
            text = system
        else:
            text = user + "\n" + system
        if self.contains is not None and self.contains not in text:
            return False
        return not (self._pattern is not None and self._pattern.search(text) is None)


class Scenario(BaseModel):
    """Everything the fake server does; replace it at runtime with `PUT /_fake/scenario`."""

    model_config = ConfigDict(extra="forbid")

    default_reply: str | None = None
    """Reply when no rule matches; None echoes the last user message verbatim."""
    rules: list[Rule] = Field(default_factory=list)
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    """Uniform extra latency in [0, jitter_ms]."""
    faults: Faults = Field(default_factory=Faults)
    seed: int = 0
    api_key: str | None = None
    """When set, requests without this key (Bearer or x-api-key) get 401."""
    models: list[str] = Field(default_factory=lambda: ["fake-model"])
    """Listed by `GET /v1/models`."""
    strict_models: bool = False
    """Answer 404 model_not_found for models not in `models`."""
    json_schema_supported: bool = True
    """False: reject `response_format` of type json_schema with 400 (to exercise client fallbacks)."""
    flavor: Flavor = "openai"
    """Whose `response_format` handling to imitate: openai, llama_cpp (llama-cpp-python), llama_server, ollama,
    vllm, lmstudio (see `flavors.py`)."""
    grammar_unsupported_keywords: list[str] = Field(default_factory=lambda: ["minimum", "maximum"])
    """With flavor vllm: schemas using these keywords are refused with 400, as by a grammar backend that lacks them."""
    ramble: bool = False
    """Answer like a small model nothing holds to a format: prose, the answer, then on until `max_tokens` or the
    context is full (finish_reason `length`). Output constrained by a honoured response format does not ramble."""
    context_tokens: int = Field(default=2048, ge=1)
    """The model's context length (rambling fills it; vllm refuses prompt + max_tokens beyond it)."""
    ms_per_token: float = Field(default=0.0, ge=0)
    """Generation time per completion token, added to the latency."""
    max_completion_tokens_only: bool = False
    """Refuse `max_tokens` with 400 as OpenAI's newer models do (they take `max_completion_tokens`)."""
    log_limit: int = 10_000
    """Keep at most this many entries in the request log."""
    rpm_limit: float | None = Field(default=None, gt=0)
    """Requests per minute the server accepts (a token bucket, as providers do); beyond it: 429 with Retry-After."""
    rpm_burst_s: float = Field(default=1.0, gt=0)
    """Seconds of `rpm_limit` the bucket holds (its burst)."""
    tpm_limit: float | None = Field(default=None, gt=0)
    """Tokens per minute the server accepts: a request's prompt tokens are taken when it arrives (429 with
    Retry-After when the bucket holds fewer), its completion tokens when it is answered. Each logged request
    then carries `tokens` (prompt + completion)."""
    tpm_burst_s: float = Field(default=1.0, gt=0)
    """Seconds of `tpm_limit` the bucket holds (its burst)."""
