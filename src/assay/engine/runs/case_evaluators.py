"""Building a run's evaluators from its snapshotted items: built-in checks, the LLM judge (with its stored
endpoint), Hog, Python (trusted local code); and normalising stored evaluator definitions into inline configs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from assay.domain.outcomes import CaseOutcome, Verdict
from assay.domain.secrets import decrypt_secret
from assay.errors import ValidationFailed
from assay.evaluators.case_evaluator import CaseEvaluator
from assay.evaluators.checks import CHECK_TYPES, parse_check_config, run_check
from assay.evaluators.conversation_checks import (
    CONVERSATION_CHECK_TYPES,
    parse_conversation_check,
    run_conversation_check,
)
from assay.evaluators.hog_eval import HogEvaluator
from assay.evaluators.judge_cache import JudgeCache
from assay.evaluators.python_eval import PythonEvaluator
from assay.evaluators.rubrics import RUBRICS
from assay.evaluators.sandboxed_python import SandboxedPythonEvaluator
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
    if kind == "python":
        return {
            "type": "python",
            "source": evaluation_config.get("source"),
            "threshold": evaluation_config.get("threshold", 0.5),
            "scale": evaluation_config.get("scale", 1),
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


class CheckEvaluator(CaseEvaluator):
    def __init__(self, config: dict[str, Any]) -> None:
        self.check = parse_check_config(config)
        self.name = str(config.get("name") or config["type"])

    async def evaluate(self, outcome: CaseOutcome) -> Verdict:
        if self.check.may_block(outcome):
            return await asyncio.to_thread(run_check, self.check, outcome)
        return run_check(self.check, outcome)


class ConversationCheckEvaluator(CaseEvaluator):
    """A per-turn check, trajectory match or conversation metrics (`evaluators/conversation_checks.py`)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.check = parse_conversation_check(config)
        self.name = self.check.label

    async def evaluate(self, outcome: CaseOutcome) -> Verdict:
        return run_conversation_check(self.check, outcome)


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
        rubric = config.get("rubric")
        self.name = str(config.get("name") or rubric or "llm_judge")
        self.config = SuiteJudgeConfig(
            prompt=config.get("prompt") or (RUBRICS[rubric] if rubric else None),
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


def build_evaluator(
    config: dict[str, Any],
    *,
    secret_key: str,
    registry: ProviderRegistry,
    cache: JudgeCache | None,
    use_cache: bool = True,
    tenant: str = "",
) -> CaseEvaluator:
    """Prepare one snapshotted item (judges carry their resolved `judge_endpoint`).

    `tenant` (the run's environment) picks the sandbox workers a `python` item runs in.
    """
    config = normalize_item_config(config)
    kind = config["type"]
    if kind in CHECK_TYPES:
        return CheckEvaluator(config)
    if kind in CONVERSATION_CHECK_TYPES:
        return ConversationCheckEvaluator(config)
    if kind == "llm_judge":
        endpoint = config.get("judge_endpoint")
        if not endpoint:
            raise ValidationFailed("no judge model: give the judge a model or set ASSAY_JUDGE_MODEL", attr="recipe")
        config = {**config, "cache": use_cache and bool(config.get("cache", True))}
        return JudgeEvaluator(config, JudgeEndpoint(**endpoint).endpoint(secret_key), registry, cache)
    if kind == "hog":
        return HogEvaluator(config)
    if kind == "python":
        if "function" in config:  # trusted local code (suite files, assay.evals)
            return PythonEvaluator(config)
        return SandboxedPythonEvaluator(config, tenant=tenant)  # stored source, run in the sandbox
    raise ValidationFailed(f"unknown evaluator type {kind!r}", attr="recipe")
