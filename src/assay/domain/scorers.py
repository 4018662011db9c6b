"""Scorers as PostHog's evaluations SDK defines them (boolean, numeric, categorical), and what an uploaded result
of one means for Assay: a verdict per scorer, and a case score from the verdicts.

A boolean passes when it is true (false with `true_is_failure`); a numeric passes its `passing_rule` (`gte` or
`lte` a threshold); a categorical passes when every chosen category is among the passing ones. A scorer without
a passing rule judges nothing (its value is kept). The case score is the share of judged scorers that passed
(0–100), and the case passes when every one did (`PASS_THRESHOLD`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from assay.domain.outcomes import Verdict, VerdictStatus
from assay.domain.statuses import ResultStatus

ScorerKind = Literal["boolean", "numeric", "categorical"]
KINDS: tuple[str, ...] = ("boolean", "numeric", "categorical")
RESULT_STATUSES: tuple[str, ...] = ("ok", "error", "skipped", "not_applicable")
PASS_THRESHOLD = 100.0
"""An uploaded case passes when every scorer that judges it passes."""


class ScorerConfigError(ValueError):
    """A scorer configuration or an uploaded value that does not fit its scorer; `field` names where."""

    def __init__(self, message: str, field: str = "config") -> None:
        super().__init__(message)
        self.field = field


def _number(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScorerConfigError(f"{field} must be a finite number", f"config.{field}")
    return float(value)


def _boolean_config(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("true_label", "false_label"):
        if name in config:
            if not isinstance(config[name], str) or len(config[name]) > 255:
                raise ScorerConfigError(f"{name} must be a string", f"config.{name}")
            out[name] = config[name]
    if config.get("true_is_failure") not in (None, True, False):
        raise ScorerConfigError("true_is_failure must be true, false or null", "config.true_is_failure")
    out["true_is_failure"] = config.get("true_is_failure")
    return out


def _numeric_config(config: dict[str, Any]) -> dict[str, Any]:
    low, high = _number(config.get("min"), "min"), _number(config.get("max"), "max")
    step = _number(config.get("step"), "step")
    if low is not None and high is not None and low > high:
        raise ScorerConfigError("min must not be above max", "config.min")
    if step is not None and step <= 0:
        raise ScorerConfigError("step must be above 0", "config.step")
    rule = config.get("passing_rule")
    if rule is not None:
        if not isinstance(rule, dict) or rule.get("operator") not in ("gte", "lte"):
            raise ScorerConfigError("passing_rule needs operator gte or lte", "config.passing_rule")
        threshold = _number(rule.get("threshold"), "passing_rule.threshold")
        if threshold is None or (low is not None and threshold < low) or (high is not None and threshold > high):
            raise ScorerConfigError("the threshold must be a number within min and max", "config.passing_rule")
        rule = {"operator": rule["operator"], "threshold": threshold}
    return {"min": low, "max": high, "step": step, "passing_rule": rule}


def _categorical_config(config: dict[str, Any]) -> dict[str, Any]:
    options = config.get("options")
    if not isinstance(options, list) or not options:
        raise ScorerConfigError("options must be a non-empty list of {key, label}", "config.options")
    keys: list[str] = []
    for option in options:
        key = option.get("key") if isinstance(option, dict) else None
        if not isinstance(key, str) or not key or len(key) > 128 or not isinstance(option.get("label"), str):
            raise ScorerConfigError("every option needs a key and a label", "config.options")
        keys.append(key)
    if len(set(keys)) != len(keys):
        raise ScorerConfigError("option keys must be distinct", "config.options")
    mode = config.get("selection_mode", "single")
    if mode not in ("single", "multiple"):
        raise ScorerConfigError("selection_mode must be single or multiple", "config.selection_mode")
    rule = config.get("passing_rule")
    if rule is not None:
        categories = rule.get("categories") if isinstance(rule, dict) else None
        if not isinstance(categories, list) or any(c not in keys for c in categories):
            raise ScorerConfigError("passing_rule.categories must be option keys", "config.passing_rule")
        if not categories and mode == "single":
            raise ScorerConfigError("an empty passing list needs selection_mode multiple", "config.passing_rule")
        rule = {"categories": list(categories)}
    return {
        "options": [{"key": o["key"], "label": o["label"]} for o in options],
        "selection_mode": mode,
        "min_selections": config.get("min_selections"),
        "max_selections": config.get("max_selections"),
        "passing_rule": rule,
    }


def validate_config(kind: str, config: Any) -> dict[str, Any]:
    """The configuration of a scorer of `kind`, checked, as stored; `ScorerConfigError` when it does not fit."""
    if kind not in KINDS:
        raise ScorerConfigError("kind must be boolean, numeric or categorical", "kind")
    if not isinstance(config, dict):
        raise ScorerConfigError("config must be an object")
    if kind == "boolean":
        return _boolean_config(config)
    if kind == "numeric":
        return _numeric_config(config)
    return _categorical_config(config)


def check_value(kind: str, config: dict[str, Any], value: Any) -> None:
    """Refuse an uploaded value that a scorer of `kind` cannot have given (`ScorerConfigError` on `value`)."""
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ScorerConfigError("a boolean scorer's value must be true or false", "value")
    elif kind == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ScorerConfigError("a numeric scorer's value must be a finite number", "value")
        low, high = config.get("min"), config.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ScorerConfigError("the value is outside the scorer's min and max", "value")
    else:
        keys = {o["key"] for o in config.get("options", [])}
        if not isinstance(value, list) or not value or any(v not in keys for v in value):
            raise ScorerConfigError("a categorical scorer's value must be a list of its option keys", "value")
        if config.get("selection_mode", "single") == "single" and len(value) != 1:
            raise ScorerConfigError("a single-selection scorer takes exactly one category", "value")


def passes(kind: str, config: dict[str, Any], value: Any) -> bool | None:
    """Whether a value passes its scorer, or None when the scorer has no passing rule."""
    if kind == "boolean":
        return (not value) if config.get("true_is_failure") else bool(value)
    rule = config.get("passing_rule")
    if rule is None:
        return None
    if kind == "numeric":
        return bool(value >= rule["threshold"] if rule["operator"] == "gte" else value <= rule["threshold"])
    return all(v in rule["categories"] for v in value)


def _unit_score(kind: str, config: dict[str, Any], value: Any, passed: bool | None) -> float | None:
    if kind == "numeric":
        low, high = config.get("min"), config.get("max")
        if low is not None and high is not None and high > low:
            return (float(value) - float(low)) / (float(high) - float(low))
    return None if passed is None else float(passed)


def payload_of(declaration: dict[str, Any]) -> dict[str, Any]:
    """An uploaded item's or result's `payload` (an empty one when it has none)."""
    payload = declaration.get("payload")
    return payload if isinstance(payload, dict) else {}


@dataclass(frozen=True, slots=True)
class ScorerRef:
    """What a verdict needs of a scorer version."""

    name: str
    kind: str
    config: dict[str, Any]
    scorer_id: str
    version_id: str
    version: int


def verdict(scorer: ScorerRef, result: dict[str, Any]) -> Verdict:
    """One uploaded result (`status`, `value`, `payload`…) as an Assay verdict of the scorer."""
    payload = payload_of(result)
    status = result.get("status", "ok")
    details = {
        "scorer_id": scorer.scorer_id,
        "scorer_version_id": scorer.version_id,
        "scorer_version": scorer.version,
        "kind": scorer.kind,
        "value": result.get("value"),
        "evaluator_trace_id": result.get("evaluator_trace_id"),
    }
    reason = str(payload.get("reasoning") or "")
    if status == "error":
        message = str(payload.get("error_message") or result.get("error_code") or "the scorer failed")
        return Verdict(scorer.name, "error", None, reason or message, None, error=message, details=details)
    if status != "ok":
        return Verdict(scorer.name, "not_applicable", None, reason or status, None, details=details)
    value = result.get("value")
    passed = passes(scorer.kind, scorer.config, value)
    outcome: VerdictStatus = "not_applicable" if passed is None else ("passed" if passed else "failed")
    return Verdict(
        scorer.name, outcome, _unit_score(scorer.kind, scorer.config, value, passed), reason, passed, details=details
    )


def case_outcome(verdicts: list[Verdict]) -> tuple[ResultStatus, float | None, str]:
    """A case's status, score (0–100) and reason from its scorers' verdicts."""
    judged = [v for v in verdicts if v.passed is not None]
    if judged:
        passed = sum(1 for v in judged if v.passed)
        score = 100.0 * passed / len(judged)
        failed = [v.evaluator for v in judged if not v.passed]
        reason = f"{passed} of {len(judged)} scorers passed" + (f"; failed: {', '.join(failed)}" if failed else "")
        return (ResultStatus.PASSED if score >= PASS_THRESHOLD else ResultStatus.FAILED), score, reason
    errors = [v for v in verdicts if v.status == "error"]
    if errors:
        return ResultStatus.ERROR, None, "; ".join(f"{v.evaluator}: {v.error}" for v in errors)
    return ResultStatus.UNSCORED, None, "no scorer judged the case"
