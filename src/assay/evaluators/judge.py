"""LLM judges: the PostHog-compatible boolean judge and the suite judge for agent evaluations.

Both ask the model for structured output at temperature 0 through a strategy chain that works on any
OpenAI-compatible server (json_schema, then json_object with the schema, then the schema in the prompt with
tolerant extraction; see `ask_structured`), cap the output with `max_tokens`, validate the answer, and cache
results by content hash.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import orjson
from pydantic import BaseModel, Field, ValidationError, model_validator

from assay.domain.outcomes import CaseOutcome, Verdict
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

# --- PostHog-compatible prompts (exact strings: a compatibility requirement) ---------------------------------------

SYSTEM_PROMPT_TEMPLATE = (
    "You are an evaluator. Evaluate the following generation according to this criteria:\n\n{prompt}\n\n{instructions}"
)
BOOLEAN_INSTRUCTIONS = "Provide a brief reasoning (1 sentence) and a boolean verdict (true/false)."
ALLOWS_NA_INSTRUCTIONS = (
    "First, determine if this evaluation criteria is applicable to the given input/output. "
    "If the criteria doesn't apply to this case mark it as not applicable.\n\n"
    'Note: If the criteria above instructs you to return "N/A", "not applicable", or similar, '
    "treat that as applicable=false with verdict=null.\n\n"
    "Return:\n"
    "- applicable: true if the criteria applies to this input/output, false if it doesn't apply\n"
    "- verdict: true if it passes, false if it fails, or null if not applicable\n"
    "- reasoning: a brief explanation (1 sentence)"
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


def build_system_prompt(prompt: str, allows_na: bool) -> str:
    """The PostHog judge system prompt."""
    return SYSTEM_PROMPT_TEMPLATE.format(
        prompt=prompt, instructions=ALLOWS_NA_INSTRUCTIONS if allows_na else BOOLEAN_INSTRUCTIONS
    )


def build_user_message(input_text: str, output_text: str) -> str:
    """The PostHog judge user message."""
    return f"Input: {input_text}\n\nOutput: {output_text}"


# --- Structured output models ----------------------------------------------------------------------------------------


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


# --- Cache -------------------------------------------------------------------------------------------------------------


class JudgeCache(Protocol):
    """Where judge answers are kept by content hash."""

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def set(self, key: str, value: dict[str, Any]) -> None: ...


class InMemoryJudgeCache:
    """A process-local LRU judge cache."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    async def get(self, key: str) -> dict[str, Any] | None:
        value = self._data.get(key)
        if value is None:
            self.misses += 1
            return None
        self._data.move_to_end(key)
        self.hits += 1
        return value

    async def set(self, key: str, value: dict[str, Any]) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


_default_cache = InMemoryJudgeCache()


def default_judge_cache() -> InMemoryJudgeCache:
    """The process-wide in-memory judge cache used when no cache is passed."""
    return _default_cache


def judge_cache_key(
    *, provider: str, base_url: str | None, model: str, messages: list[dict[str, Any]], schema: Any, temperature: float
) -> str:
    """sha256 over everything that determines a judge's answer."""
    payload = [provider, base_url or "", model, messages, schema, temperature]
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


# --- Errors and results ------------------------------------------------------------------------------------------------


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


@dataclass(slots=True)
class JudgeResult:
    """What the PostHog judge decided, with usage."""

    verdict: bool | None
    reasoning: str
    applicable: bool | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""
    provider: str = ""
    allows_na: bool = False
    cached: bool = False

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_dict(self) -> dict[str, Any]:
        """The PostHog activity result shape (`applicable` only when N/A is allowed)."""
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "reasoning": self.reasoning,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "allows_na": self.allows_na,
            "model": self.model,
            "provider": self.provider,
        }
        if self.allows_na:
            out["applicable"] = self.applicable
        return out


@dataclass(slots=True)
class _Answer:
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
    return ChatRequest(messages=conversation, response_format=response_format, temperature=0.0, max_tokens=max_tokens)


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
) -> _Answer:
    """Ask for a `model_cls` answer at temperature 0 with the cache and the structured-output strategy chain.

    Strategies go json_schema → json_object (with the schema) → instructed JSON, starting with the first the
    endpoint has not refused or kept ignoring (`FormatMemory`). A refusal of the format moves on and is remembered;
    an answer that is not the JSON asked for moves on to the next strategy; an answer that is JSON but invalid is
    sent back once with what was wrong. No identical request is sent twice (at temperature 0 it would answer the
    same), and at most `retry.max_attempts` requests are made. Usage is summed over them.
    """
    registry = registry or get_registry()
    policy = retry or RetryPolicy()
    memory = memory if memory is not None else format_memory()
    strict, _ = _schemas(model_cls)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    store = (cache if cache is not None else _default_cache) if use_cache else None
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
                return _Answer(
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
        request = _request(strategy, messages, model_cls, max_tokens, repair)
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
            return _Answer(value, input_tokens, output_tokens, False)
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


# --- The PostHog boolean judge -----------------------------------------------------------------------------------------


async def run_llm_judge(
    *,
    prompt: str,
    input_text: str,
    output_text: str,
    endpoint: EndpointConfig,
    allows_na: bool = False,
    registry: ProviderRegistry | None = None,
    retry: RetryPolicy | None = None,
    cache: JudgeCache | None = None,
    use_cache: bool = True,
    max_tokens: int | None = DEFAULT_JUDGE_MAX_TOKENS,
    memory: FormatMemory | None = None,
) -> JudgeResult:
    """Run the PostHog-compatible boolean judge; raise `JudgeError` with a PostHog `error_type` on failure."""
    model_cls: type[BaseModel] = BooleanWithNAEvalResult if allows_na else BooleanEvalResult
    answer = await ask_structured(
        endpoint,
        build_system_prompt(prompt, allows_na),
        build_user_message(input_text, output_text),
        model_cls,
        registry=registry,
        retry=retry,
        cache=cache,
        use_cache=use_cache,
        max_tokens=max_tokens,
        memory=memory,
    )
    value: Any = answer.value
    return JudgeResult(
        verdict=value.verdict,
        reasoning=value.reasoning,
        applicable=value.applicable if allows_na else None,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
        model=endpoint.model,
        provider=endpoint.provider,
        allows_na=allows_na,
        cached=answer.cached,
    )


# --- The suite judge (agent evaluations) -------------------------------------------------------------------------------

DEFAULT_SUITE_PROMPT = """Decide whether the agent's response meets the expected behaviour.

User input:
{{input}}

Agent response:
{{output}}

Tool calls made:
{{tool_calls}}

Expected behaviour:
{{expected}}"""

SUITE_SYSTEM_PROMPT = (
    "You are an evaluator of an AI agent. Judge the agent's behaviour in the case given by the user message "
    "strictly according to the criteria stated there.\n\n{instructions}"
)
SUITE_INSTRUCTIONS = {
    (
        "boolean",
        False,
    ): "Provide a brief reasoning (1-2 sentences) and a boolean verdict (true if it passes, false if it fails).",
    ("boolean", True): (
        "First decide whether the criteria apply to this case. Return applicable=false and verdict=null if they do not; "
        "otherwise applicable=true and a boolean verdict. Add a brief reasoning (1-2 sentences)."
    ),
    (
        "numeric",
        False,
    ): "Provide a brief reasoning (1-2 sentences) and an integer score from 0 (fails completely) to 100 (fully meets the criteria).",
    ("numeric", True): (
        "First decide whether the criteria apply to this case. Return applicable=false and score=null if they do not; "
        "otherwise applicable=true and an integer score from 0 to 100. Add a brief reasoning (1-2 sentences)."
    ),
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.\-]*)\s*\}\}")


@dataclass(slots=True)
class SuiteJudgeConfig:
    """How the suite judge scores a case."""

    prompt: str | None = None
    """Template with `{{input}}`, `{{output}}`, `{{expected}}`, `{{tool_calls}}`, `{{metadata.key}}`; None: the default."""
    output_type: Literal["boolean", "numeric"] = "boolean"
    allows_na: bool = False
    pass_threshold: float = 0.7
    """Numeric scores at or above this fraction of 100 pass."""
    name: str = "llm_judge"
    use_cache: bool = True
    max_tokens: int | None = DEFAULT_JUDGE_MAX_TOKENS
    """Output cap of each judge call."""
    extra: dict[str, Any] = field(default_factory=dict)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def render_prompt(template: str, outcome: CaseOutcome) -> str:
    """Fill `{{…}}` placeholders from the case; unknown names render empty."""
    values: dict[str, str] = {
        "input": outcome.input,
        "output": outcome.output,
        "expected": outcome.expected or "(not specified)",
        "tool_calls": _as_text([c.to_dict() for c in outcome.tool_calls]) if outcome.tool_calls else "(none)",
        "expected_tool_calls": _as_text([c.to_dict() for c in outcome.expected_tool_calls or []]) or "(none)",
        "latency_ms": "" if outcome.latency_ms is None else f"{outcome.latency_ms:g}",
        "tokens": "" if outcome.tokens is None else str(outcome.tokens),
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("metadata."):
            node: Any = outcome.metadata
            for part in name.split(".")[1:]:
                node = node.get(part) if isinstance(node, dict) else None
            return _as_text(node)
        if name == "metadata":
            return _as_text(outcome.metadata)
        return values.get(name, "")

    return _PLACEHOLDER.sub(replace, template)


def _suite_model(config: SuiteJudgeConfig) -> type[BaseModel]:
    if config.output_type == "numeric":
        return NumericWithNAEvalResult if config.allows_na else NumericEvalResult
    return BooleanWithNAEvalResult if config.allows_na else BooleanEvalResult


async def judge_case(
    outcome: CaseOutcome,
    config: SuiteJudgeConfig,
    endpoint: EndpointConfig,
    *,
    registry: ProviderRegistry | None = None,
    retry: RetryPolicy | None = None,
    cache: JudgeCache | None = None,
) -> Verdict:
    """Score one agent case with the LLM judge; failures become a `Verdict` with status `error`."""
    template = config.prompt if config.prompt and config.prompt.strip() else DEFAULT_SUITE_PROMPT
    user = render_prompt(template, outcome)
    if not _PLACEHOLDER.search(template):
        user = f"{user}\n\n{render_prompt(DEFAULT_SUITE_PROMPT.split(chr(10), 2)[2], outcome)}"
    system = SUITE_SYSTEM_PROMPT.format(instructions=SUITE_INSTRUCTIONS[(config.output_type, config.allows_na)])
    try:
        answer = await ask_structured(
            endpoint,
            system,
            user,
            _suite_model(config),
            registry=registry,
            retry=retry,
            cache=cache,
            use_cache=config.use_cache,
            max_tokens=config.max_tokens,
        )
    except JudgeError as exc:
        return Verdict(
            evaluator=config.name,
            status="error",
            score=None,
            reason=exc.message,
            error=exc.error_type,
            details={"model": endpoint.model, "provider": endpoint.provider},
        )
    value: Any = answer.value
    tokens = 0 if answer.cached else answer.input_tokens + answer.output_tokens
    details: dict[str, Any] = {
        "model": endpoint.model,
        "provider": endpoint.provider,
        "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens,
        "cached": answer.cached,
    }
    if config.allows_na and not value.applicable:
        return Verdict(config.name, "not_applicable", None, value.reasoning, None, tokens, None, details)
    if config.output_type == "numeric":
        score = value.score / 100.0
        passed = score >= config.pass_threshold
        details["raw_score"] = value.score
    else:
        passed = bool(value.verdict)
        score = 1.0 if passed else 0.0
    return Verdict(config.name, "passed" if passed else "failed", score, value.reasoning, passed, tokens, None, details)
