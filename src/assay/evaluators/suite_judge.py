"""The suite judge for agent evaluations (`llm_judge` recipe items): one case scored boolean or 0-100."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from pydantic import BaseModel

from assay.domain.messages import extract_text_from_messages
from assay.domain.outcomes import CaseOutcome, Verdict
from assay.evaluators.judge_cache import JudgeCache
from assay.evaluators.structured_judge import (
    DEFAULT_JUDGE_MAX_TOKENS,
    BooleanEvalResult,
    BooleanWithNAEvalResult,
    JudgeError,
    NumericEvalResult,
    NumericWithNAEvalResult,
    ask_structured,
)
from assay.providers import EndpointConfig, ProviderRegistry, RetryPolicy

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
    """Template with `{{input}}`, `{{output}}`, `{{expected}}`, `{{tool_calls}}`, `{{metadata.key}}`,
    `{{transcript}}`, `{{goal}}`, `{{metrics}}`; None: the default."""
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


def transcript_text(outcome: CaseOutcome) -> str:
    """The conversation as the judge reads it: one `role: text` line per message, tool calls and results
    included; a one-turn case is its input and reply."""
    if outcome.messages:
        return extract_text_from_messages(outcome.messages)
    lines = [f"user: {outcome.input}", f"assistant: {outcome.output}"]
    lines[1:1] = [f"[tool_call: {c.name}({_as_text(c.arguments)})]" for c in outcome.tool_calls]
    return "\n".join(lines)


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
        "transcript": transcript_text(outcome),
        "goal": outcome.goal or outcome.expected or "(not specified)",
        "metrics": _as_text(outcome.metrics) if outcome.metrics else "",
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
