"""Asking a judge model for a structured answer: the answer models, the strategy chain, repair, the cache.

Asks at temperature 0 through a strategy chain that works on any OpenAI-compatible server (json_schema,
then json_object with the schema, then the schema in the prompt with tolerant extraction; see
`ask_structured`), caps the output with `max_tokens`, validates the answer, and caches results by content
hash. Both LLM judges (`posthog_judge`, `suite_judge`) ask through it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, Field, ValidationError, model_validator

from assay.evaluators.judge_cache import JudgeCache, default_judge_cache, judge_cache_key
from assay.providers import (
    ChatRequest,
    EndpointConfig,
    ProviderError,
    ProviderRegistry,
    ResponseFormat,
    RetryPolicy,
    get_registry,
)
from assay.providers.structured import (
    STRATEGIES,
    FormatMemory,
    Strategy,
    UnsupportedResponseFormat,
    extract_json,
    format_memory,
    schema_error,
)

FALLBACK_SCHEMA_INSTRUCTION = (
    "You must respond with valid JSON that matches this schema:\n{schema}\n\n"
    "Return ONLY the JSON object, no other text or markdown formatting."
)

ERROR_MESSAGES = {
    "auth": ("auth_error", "API key is invalid or has been deleted."),
    "permission": ("permission_error", "API key doesn't have access to this model."),
    "quota": ("quota_error", "API key has exceeded its quota."),
    "rate_limit": ("rate_limit", "API key is being rate limited."),
}


# --- Answer models ---------------------------------------------------------------------------------------------------


class BooleanEvalResult(BaseModel):
    reasoning: str
    verdict: bool


class BooleanWithNAEvalResult(BaseModel):
    reasoning: str
    applicable: bool
    verdict: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> BooleanWithNAEvalResult:
        if self.applicable and self.verdict is None:
            raise ValueError("verdict is required when applicable is true")
        if not self.applicable and self.verdict is not None:
            raise ValueError("verdict must be null when applicable is false")
        return self


class NumericEvalResult(BaseModel):
    reasoning: str
    score: int = Field(ge=0, le=100)


class NumericWithNAEvalResult(BaseModel):
    reasoning: str
    applicable: bool
    score: int | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _check(self) -> NumericWithNAEvalResult:
        if self.applicable and self.score is None:
            raise ValueError("score is required when applicable is true")
        if not self.applicable and self.score is not None:
            raise ValueError("score must be null when applicable is false")
        return self


_SCHEMAS: dict[type[BaseModel], tuple[dict[str, Any], str]] = {}


def _schemas(model: type[BaseModel]) -> tuple[dict[str, Any], str]:
    """(strict JSON schema for `response_format`, schema text for the fallback instruction)."""
    cached = _SCHEMAS.get(model)
    if cached is None:
        plain = model.model_json_schema()
        strict = json.loads(json.dumps(plain))
        strict["additionalProperties"] = False
        strict["required"] = list(strict["properties"])
        for prop in strict["properties"].values():
            if prop.get("default", 0) is None:
                del prop["default"]
        cached = _SCHEMAS[model] = (strict, json.dumps(plain, indent=2))
    return cached


# --- Errors ----------------------------------------------------------------------------------------------------------


class JudgeError(Exception):
    """A judge call failed; `error_type` follows PostHog (`auth_error`, `parse_error`, `model_not_found` …)."""

    def __init__(self, error_type: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.retryable = retryable


def map_provider_error(exc: ProviderError, model: str) -> JudgeError:
    """A provider error as the judge reports it."""
    if exc.kind in ERROR_MESSAGES:
        error_type, message = ERROR_MESSAGES[exc.kind]
        return JudgeError(error_type, message, retryable=exc.retryable)
    if exc.kind == "not_found":
        return JudgeError("model_not_found", f"Model '{model}' not found.")
    if exc.kind == "parse_error":
        return JudgeError("parse_error", exc.message, retryable=False)
    return JudgeError(exc.kind, exc.message, retryable=exc.retryable)


# --- Asking ----------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class JudgeAnswer:
    """A validated answer with the usage summed over the requests it took."""

    value: BaseModel
    input_tokens: int
    output_tokens: int
    cached: bool


DEFAULT_JUDGE_MAX_TOKENS = 1024
"""Output cap of a judge call: a verdict and a sentence of reasoning need far less; a rambling model stops here."""

REPAIR_INSTRUCTION = (
    "Your previous answer could not be used: {problem}\n\n"
    "Answer again with only the JSON object, no other text or markdown formatting."
)


def _strategies(endpoint: EndpointConfig) -> tuple[Strategy, ...]:
    # Anthropic's structured output is a forced tool call: json_object would send the same request again
    return ("json_schema", "instructed") if endpoint.provider == "anthropic" else STRATEGIES


def _request(
    strategy: Strategy,
    messages: list[dict[str, Any]],
    model_cls: type[BaseModel],
    max_tokens: int | None,
    repair: tuple[str, str] | None,
    seed: int | None = None,
) -> ChatRequest:
    """The judge request for one strategy; `repair` is (previous answer, what was wrong with it)."""
    strict, schema_text = _schemas(model_cls)
    system, user = messages
    if strategy != "json_schema":
        instruction = FALLBACK_SCHEMA_INSTRUCTION.format(schema=schema_text)
        system = {"role": "system", "content": f"{system['content']}\n\n{instruction}"}
    conversation = [system, user]
    if repair is not None:
        answer, problem = repair
        conversation += [
            {"role": "assistant", "content": answer},
            {"role": "user", "content": REPAIR_INSTRUCTION.format(problem=problem)},
        ]
    response_format = None
    if strategy != "instructed":
        response_format = ResponseFormat(model_cls.__name__, strict, type=strategy, decode=False)
    return ChatRequest(
        messages=conversation,
        response_format=response_format,
        temperature=0.0,
        max_tokens=max_tokens,
        extra=None if seed is None else {"seed": seed},
    )


def _fingerprint(request: ChatRequest) -> bytes:
    fmt = request.response_format
    return orjson.dumps([request.messages, fmt.type if fmt else None, request.max_tokens])


def _read(text: str, finish_reason: str | None, model_cls: type[BaseModel]) -> tuple[BaseModel | None, str, bool]:
    """(value, problem, whether the problem is the format) for one answer, read tolerantly."""
    strict, _ = _schemas(model_cls)
    cut = " (the answer was cut off at max_tokens)" if finish_reason == "length" else ""
    found = extract_json(text, strict)
    if found is None:
        return None, f"The judge's answer is not a JSON object{cut}.", True
    try:
        return model_cls.model_validate(found), "", False
    except ValidationError as exc:
        message = exc.errors()[0].get("msg", "validation error")
        return None, f"The judge's answer is invalid: {message}{cut}", schema_error(found, strict) is not None


async def ask_structured(
    endpoint: EndpointConfig,
    system: str,
    user: str,
    model_cls: type[BaseModel],
    *,
    registry: ProviderRegistry | None = None,
    retry: RetryPolicy | None = None,
    cache: JudgeCache | None = None,
    use_cache: bool = True,
    max_tokens: int | None = DEFAULT_JUDGE_MAX_TOKENS,
    memory: FormatMemory | None = None,
    seed: int | None = None,
) -> JudgeAnswer:
    """Ask for a `model_cls` answer at temperature 0 with the cache and the structured-output strategy chain.

    Strategies go json_schema → json_object (with the schema) → instructed JSON, starting with the first the
    endpoint has not refused or kept ignoring (`FormatMemory`). A refusal of the format moves on and is remembered;
    an answer that is not the JSON asked for moves on to the next strategy; an answer that is JSON but invalid is
    sent back once with what was wrong. No identical request is sent twice (at temperature 0 it would answer the
    same), and at most `retry.max_attempts` requests are made. Usage is summed over them. `seed`, when given,
    is sent with every request (providers that honour it then repeat their answers).
    """
    registry = registry or get_registry()
    policy = retry or RetryPolicy()
    memory = memory if memory is not None else format_memory()
    strict, _ = _schemas(model_cls)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    store = (cache if cache is not None else default_judge_cache()) if use_cache else None
    key = ""
    if store is not None:
        key = judge_cache_key(
            provider=endpoint.provider,
            base_url=endpoint.base_url,
            model=endpoint.model,
            messages=messages,
            schema=strict,
            temperature=0.0,
        )
        hit = await store.get(key)
        if hit is not None:
            try:
                return JudgeAnswer(
                    model_cls.model_validate(hit["result"]),
                    hit.get("input_tokens", 0),
                    hit.get("output_tokens", 0),
                    True,
                )
            except (ValidationError, KeyError, TypeError):
                pass
    endpoint_key = endpoint.limiter_key()
    chain = memory.chain(endpoint_key, _strategies(endpoint))
    step = 0
    repair: tuple[str, str] | None = None
    sent: set[bytes] = set()
    unreadable: list[Strategy] = []
    input_tokens = output_tokens = 0
    last_problem = "The judge's answer could not be parsed."
    refusal: ProviderError | None = None
    while len(sent) < max(1, policy.max_attempts):
        strategy = chain[step]
        request = _request(strategy, messages, model_cls, max_tokens, repair, seed)
        sent.add(_fingerprint(request))
        try:
            result = await registry.chat(endpoint, request, retry=policy)
        except UnsupportedResponseFormat as exc:
            memory.rejected(endpoint_key, strategy)
            if step + 1 >= len(chain):
                raise map_provider_error(exc, endpoint.model) from None
            step, repair, refusal = step + 1, None, exc
            continue
        except ProviderError as exc:
            raise map_provider_error(exc, endpoint.model) from None
        refusal = None
        input_tokens += result.input_tokens
        output_tokens += result.output_tokens
        value, last_problem, format_problem = _read(result.text, result.finish_reason, model_cls)
        if value is not None:
            memory.worked(endpoint_key, strategy, unreadable)
            if store is not None:
                await store.set(
                    key, {"result": value.model_dump(), "input_tokens": input_tokens, "output_tokens": output_tokens}
                )
            return JudgeAnswer(value, input_tokens, output_tokens, False)
        if format_problem and strategy not in unreadable:
            unreadable.append(strategy)
        repaired = (result.text, last_problem)
        if (
            not format_problem
            and _fingerprint(_request(strategy, messages, model_cls, max_tokens, repaired)) not in sent
        ):
            repair = repaired  # JSON in the right shape but invalid: say what was wrong
        elif step + 1 < len(chain):
            step, repair = step + 1, None  # the server did not hold the model to the format: ask another way
        elif _fingerprint(_request(strategy, messages, model_cls, max_tokens, repaired)) not in sent:
            repair = repaired
        else:
            break
    if refusal is not None:  # out of attempts right after the server refused a format
        raise map_provider_error(refusal, endpoint.model)
    raise JudgeError("parse_error", last_problem)
