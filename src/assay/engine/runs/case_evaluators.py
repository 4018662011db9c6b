"""Evaluators prepared once per run, then applied to every case: built-in checks, LLM judge, Hog."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from assay.domain.outcomes import CaseOutcome, Verdict
from assay.domain.secrets import decrypt_secret
from assay.errors import ValidationFailed
from assay.evaluators.checks import CHECK_TYPES, parse_check_config, run_check
from assay.evaluators.judge_cache import JudgeCache
from assay.evaluators.structured_judge import DEFAULT_JUDGE_MAX_TOKENS
from assay.evaluators.suite_judge import SuiteJudgeConfig, judge_case
from assay.providers import EndpointConfig, ProviderRegistry, RetryPolicy

JUDGE_RETRY = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=20, timeout=120)


def normalize_item_config(config: dict[str, Any]) -> dict[str, Any]:
    """Accept both inline configs (`{"type": …}`) and stored LLM-analytics evaluator definitions."""
    if "type" in config:
        return config
    kind = config.get("evaluation_type")
    evaluation_config = config.get("evaluation_config") or {}
    allows_na = bool((config.get("output_config") or {}).get("allows_na", False))
    name = config.get("name")
    if kind == "llm_judge":
        return {
            "type": "llm_judge",
            "prompt": evaluation_config.get("prompt"),
            "output_type": "boolean",
            "allows_na": allows_na,
            "model": config.get("model_configuration"),
            "name": name,
        }
    if kind == "hog":
        return {
            "type": "hog",
            "source": evaluation_config.get("source"),
            "bytecode": evaluation_config.get("bytecode"),
            "allows_na": allows_na,
            "name": name,
        }
    raise ValidationFailed(f"unknown evaluator definition: {sorted(config)}", attr="recipe")


@dataclass(slots=True)
class JudgeEndpoint:
    """A judge's endpoint as stored in a run snapshot: the key is encrypted with the server secret."""

    provider: str
    model: str
    base_url: str | None
    encrypted_api_key: str | None
    max_concurrency: int = 50
    rpm: float | None = None
    tpm: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "base_url": self.base_url,
            "encrypted_api_key": self.encrypted_api_key,
            "max_concurrency": self.max_concurrency,
            "rpm": self.rpm,
            "tpm": self.tpm,
        }

    def endpoint(self, secret_key: str) -> EndpointConfig:
        key = decrypt_secret(self.encrypted_api_key, secret_key) if self.encrypted_api_key else None
        return EndpointConfig(
            model=self.model,
            provider=self.provider,
            base_url=self.base_url,
            api_key=key or "not-needed",
            max_concurrency=self.max_concurrency,
            rpm=self.rpm,
            tpm=self.tpm,
        )


class CaseEvaluator(ABC):
    """One recipe item ready to run: parsed and compiled once, applied to many cases."""

    name: str

    @abstractmethod
    async def evaluate(self, outcome: CaseOutcome) -> Verdict:
        """Judge one case; failures are returned as a verdict with status `error`, never raised."""


class CheckEvaluator(CaseEvaluator):
    def __init__(self, config: dict[str, Any]) -> None:
        self.check = parse_check_config(config)
        self.name = str(config.get("name") or config["type"])

    async def evaluate(self, outcome: CaseOutcome) -> Verdict:
        if self.check.may_block(outcome):
            return await asyncio.to_thread(run_check, self.check, outcome)
        return run_check(self.check, outcome)


class ImpliedCheckEvaluator(CaseEvaluator):
    """A check the recipe did not list but the case's own expectations call for; its verdict says so."""

    def __init__(self, config: dict[str, Any], why: str) -> None:
        self.inner = CheckEvaluator(config)
        self.name = self.inner.name
        self.why = why

    async def evaluate(self, outcome: CaseOutcome) -> Verdict:
        verdict = await self.inner.evaluate(outcome)
        verdict.details = {**verdict.details, "implied": self.why}
        return verdict


class JudgeEvaluator(CaseEvaluator):
    def __init__(
        self,
        config: dict[str, Any],
        endpoint: EndpointConfig,
        registry: ProviderRegistry,
        cache: JudgeCache | None,
    ) -> None:
        self.name = str(config.get("name") or "llm_judge")
        self.config = SuiteJudgeConfig(
            prompt=config.get("prompt"),
            output_type=config.get("output_type") or "boolean",
            allows_na=bool(config.get("allows_na", False)),
            name=self.name,
            use_cache=bool(config.get("cache", True)),
            max_tokens=config.get("max_tokens") or DEFAULT_JUDGE_MAX_TOKENS,
        )
        self.endpoint = endpoint
        self.registry = registry
        self.cache = cache

    async def evaluate(self, outcome: CaseOutcome) -> Verdict:
        return await judge_case(
            outcome, self.config, self.endpoint, registry=self.registry, retry=JUDGE_RETRY, cache=self.cache
        )


class HogEvaluator(CaseEvaluator):
    """Hog code over the case: globals `input`, `output`, `expected`, `tool_calls`, `expected_tool_calls`.

    It returns true/false (pass/fail), null (not applicable) or a number 0–100 (a score).
    """

    def __init__(self, config: dict[str, Any]) -> None:
        from assay.hog import compile_program

        self.name = str(config.get("name") or "hog")
        self.bytecode = config.get("bytecode") or compile_program(str(config.get("source") or ""))
        self.allows_na = bool(config.get("allows_na", True))

    async def evaluate(self, outcome: CaseOutcome) -> Verdict:
        return await asyncio.to_thread(self._run, outcome)

    def _run(self, outcome: CaseOutcome) -> Verdict:
        from assay.hog import HogError, execute_bytecode

        globals_ = {
            "input": outcome.input,
            "output": outcome.output,
            "expected": outcome.expected or "",
            "tool_calls": [c.to_dict() for c in outcome.tool_calls],
            "expected_tool_calls": [c.to_dict() for c in outcome.expected_tool_calls or []],
            "latency_ms": outcome.latency_ms,
            "tokens": outcome.tokens,
            "metadata": outcome.metadata,
        }
        try:
            response = execute_bytecode(self.bytecode, globals_)
        except HogError as exc:
            return Verdict(self.name, "error", None, "", error=f"Runtime error: {exc}")
        reason = "\n".join(response.stdout)
        result = response.result
        if isinstance(result, bool):
            return Verdict(self.name, "passed" if result else "failed", 1.0 if result else 0.0, reason, passed=result)
        if result is None and self.allows_na:
            return Verdict(self.name, "not_applicable", None, reason)
        if isinstance(result, int | float) and 0 <= result <= 100:
            score = float(result) / 100
            return Verdict(self.name, "passed" if score >= 0.7 else "failed", score, reason, passed=score >= 0.7)
        return Verdict(
            self.name,
            "error",
            None,
            reason,
            error=f"Must return boolean, null or a number 0-100, got {type(result).__name__}: {result}",
        )


def build_evaluator(
    config: dict[str, Any],
    *,
    secret_key: str,
    registry: ProviderRegistry,
    cache: JudgeCache | None,
    use_cache: bool = True,
) -> CaseEvaluator:
    """Prepare one snapshotted item (judges carry their resolved `judge_endpoint`)."""
    config = normalize_item_config(config)
    kind = config["type"]
    if kind in CHECK_TYPES:
        return CheckEvaluator(config)
    if kind == "llm_judge":
        endpoint = config.get("judge_endpoint")
        if not endpoint:
            raise ValidationFailed("no judge model: give the judge a model or set ASSAY_JUDGE_MODEL", attr="recipe")
        config = {**config, "cache": use_cache and bool(config.get("cache", True))}
        return JudgeEvaluator(config, JudgeEndpoint(**endpoint).endpoint(secret_key), registry, cache)
    if kind == "hog":
        return HogEvaluator(config)
    raise ValidationFailed(f"unknown evaluator type {kind!r}", attr="recipe")
