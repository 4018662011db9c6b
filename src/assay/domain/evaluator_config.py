"""Evaluator (LLM-analytics "evaluation") types and config validation, as the original product does it."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

EvaluationType = Literal["llm_judge", "hog", "python"]
OutputType = Literal["boolean"]
EVALUATION_TYPES: tuple[str, ...] = ("llm_judge", "hog", "python")
OUTPUT_TYPES: tuple[str, ...] = ("boolean",)
MAX_HOG_SOURCE_LENGTH = 100_000
"""Longest Hog source accepted (stored evaluations and test_hog): compiling is linear, but not free."""
MAX_PYTHON_SOURCE_LENGTH = 100_000
"""Longest Python evaluator source accepted (stored evaluations and recipe items)."""


class LLMJudgeConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")
    prompt: str

    @field_validator("prompt")
    @classmethod
    def _prompt_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Prompt cannot be empty")
        return value.strip()


class HogEvalConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")
    source: str = Field(max_length=MAX_HOG_SOURCE_LENGTH)
    bytecode: list[Any] = []

    @field_validator("source")
    @classmethod
    def _source_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Source code cannot be empty")
        return value


class PythonEvalConfig(BaseModel):
    """An Assay extension: Python source defining `evaluate(input, output, **kwargs)`, run in the sandbox.

    It returns a bool (the verdict), None (not applicable), a number (a score: passes at `threshold`),
    `(value, reason)` or a dict with `passed`/`score`/`reason`/`applicable`. `scale` is a full score (1 or 100).
    """

    model_config = ConfigDict(extra="ignore")
    source: str = Field(max_length=MAX_PYTHON_SOURCE_LENGTH)
    threshold: float = Field(default=0.5, ge=0, le=1)
    scale: Literal[1, 100] = 1

    @field_validator("source")
    @classmethod
    def _source_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Source code cannot be empty")
        return value


class BooleanOutputConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")
    allows_na: bool = False


_CONFIG_MODELS: dict[tuple[str, str], tuple[type[BaseModel], type[BaseModel]]] = {
    ("llm_judge", "boolean"): (LLMJudgeConfig, BooleanOutputConfig),
    ("hog", "boolean"): (HogEvalConfig, BooleanOutputConfig),
    ("python", "boolean"): (PythonEvalConfig, BooleanOutputConfig),
}


def validate_evaluation_configs(
    evaluation_type: str, output_type: str, evaluation_config: Any, output_config: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate and normalise both configs; raises ValueError with the original product's messages."""
    models = _CONFIG_MODELS.get((evaluation_type, output_type))
    if models is None:
        raise ValueError(f"Unsupported combination: {evaluation_type} + {output_type}")
    eval_model, output_model = models
    try:
        evaluation = eval_model.model_validate(evaluation_config if evaluation_config is not None else {})
        output = output_model.model_validate(output_config if output_config is not None else {})
    except ValidationError as exc:
        raise ValueError(f"Invalid config for {evaluation_type}/{output_type}: {_first_error(exc)}") from None
    return evaluation.model_dump(), output.model_dump()


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def validate_conditions(conditions: Any) -> list[dict[str, Any]]:
    """Conditions are a list of condition sets (objects). They are stored as sent, after shape checks."""
    if not isinstance(conditions, list):
        raise ValueError("Expected a list of condition sets.")
    for index, condition in enumerate(conditions):
        if not isinstance(condition, dict):
            raise ValueError(f"Condition {index} must be an object.")
        properties = condition.get("properties", [])
        if properties is not None and not isinstance(properties, list):
            raise ValueError(f"Condition {index}: properties must be a list of property filters.")
        for filt in properties or []:
            if not isinstance(filt, dict):
                raise ValueError(f"Condition {index}: each property filter must be an object.")
        if "rollout_percentage" in condition and condition["rollout_percentage"] is not None:
            pct = condition["rollout_percentage"]
            if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 <= pct <= 100:
                raise ValueError(f"Condition {index}: rollout_percentage must be a number between 0 and 100.")
    return conditions


MATCH_ALL_CONDITION: dict[str, Any] = {"properties": [], "rollout_percentage": 100}
"""The condition set that matches every `$ai_generation` (what PostHog's UI creates for a new evaluation)."""


def evaluator_warnings(*, enabled: bool, deleted: bool, conditions: list[Any]) -> list[str]:
    """Why a stored evaluation will not run online as one might expect; empty when nothing is off.

    PostHog's API stores an enabled evaluation without conditions, and its scheduler never runs it; the
    original UI hides this by always creating a match-all condition. The API keeps the original's meaning
    (a default that evaluates every event could cost a judge call per generation) and says so instead.
    """
    if not enabled or deleted:
        return []
    if not conditions:
        return [
            "This evaluation is enabled but has no conditions, so it never runs on new events. "
            f"Add a condition set such as {json.dumps(MATCH_ALL_CONDITION)} to evaluate every $ai_generation."
        ]
    warnings: list[str] = []
    sets = [c for c in conditions if isinstance(c, dict)]
    for index, condition in enumerate(sets):
        if condition.get("bytecode") is None and condition.get("bytecode_error"):
            warnings.append(
                f"Condition {index} never matches: its property filters do not compile ({condition['bytecode_error']})."
            )
    live = [c for c in sets if c.get("bytecode") is not None]
    if live and all(c.get("rollout_percentage") == 0 for c in live):
        warnings.append("Every condition has rollout_percentage 0, so the evaluation never runs on new events.")
    elif not live:
        warnings.append("No condition can match, so the evaluation never runs on new events.")
    return warnings
