"""The PostHog-compatible LLM-analytics judge: a boolean verdict (or N/A) on one generation.

The prompts are PostHog's exact strings (a compatibility requirement); errors carry PostHog's `error_type`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from assay.evaluators.judge_cache import JudgeCache
from assay.evaluators.structured_judge import (
    DEFAULT_JUDGE_MAX_TOKENS,
    BooleanEvalResult,
    BooleanWithNAEvalResult,
    ask_structured,
)
from assay.providers import EndpointConfig, ProviderRegistry, RetryPolicy
from assay.providers.structured import FormatMemory

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


def build_system_prompt(prompt: str, allows_na: bool) -> str:
    """The PostHog judge system prompt."""
    return SYSTEM_PROMPT_TEMPLATE.format(
        prompt=prompt, instructions=ALLOWS_NA_INSTRUCTIONS if allows_na else BOOLEAN_INSTRUCTIONS
    )


def build_user_message(input_text: str, output_text: str) -> str:
    """The PostHog judge user message."""
    return f"Input: {input_text}\n\nOutput: {output_text}"


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
