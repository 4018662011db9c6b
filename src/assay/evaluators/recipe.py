"""Recipes: a weighted set of evaluators and a pass threshold that turn verdicts into one case score.

Rules of `combine` (verdicts are given in the order of the recipe's items):

- score = 100 × weighted mean of the scores of the *applicable* verdicts (passed or failed), rounded to
  two decimals. Not-applicable verdicts and errored evaluators carry no weight.
- status:
  1. any evaluator errored → `error` with score None: a case some of whose checks could not run has
     no score, so it never counts toward a mean score or reads as a pass. What the other evaluators
     scored is kept in `details["partial_score"]` and named in the reason; the reason lists each
     error with its evaluator, its message and its code;
  2. else no evaluator applied → `passed` with score None: nothing the case was held to was
     violated (this mirrors PostHog, where an N/A result is neither a pass nor a failure, and a
     case must not fail because its checks did not concern it);
  3. else a `required` evaluator failed → `failed`, whatever the score;
  4. else `passed` when score ≥ pass_threshold, `failed` otherwise.
- reason: one summary line, then "<evaluator>: <reason>" for the evaluators that decided the status:
  the errors; the failed required ones; on a score below threshold the failed ones; on a pass the
  applicable ones.

A case with `expected_tool_calls` under a recipe none of whose evaluators reads them
(`reads_expected_tool_calls`) is also held to `IMPLIED_TOOL_CALL_MATCH` (weight 1, not required,
named `expected_tool_calls`): an expectation the case declares is never silently ignored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assay.domain.outcomes import Verdict
from assay.domain.runs import DEFAULT_PASS_THRESHOLD, CaseSpec, default_recipe

CaseStatus = Literal["passed", "failed", "error"]


class RecipeItem(BaseModel):
    """One evaluator in a recipe: a stored evaluator id or an inline config dict with a `type`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    evaluator: str | dict[str, Any] = Field(description="Evaluator id, or an inline evaluator config with `type`.")
    weight: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    required: bool = Field(default=False, description="When this evaluator fails, the case fails whatever the score.")
    cases_tagged: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Apply the evaluator only to cases carrying at least one of these tags (default: every case).",
    )

    @field_validator("cases_tagged")
    @classmethod
    def _tags(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and any(not t.strip() or len(t) > 200 for t in v):
            raise ValueError("tags must be non-blank strings of at most 200 characters")
        return v

    @field_validator("evaluator")
    @classmethod
    def _evaluator(cls, v: str | dict[str, Any]) -> str | dict[str, Any]:
        if isinstance(v, str):
            if not v.strip():
                raise ValueError("evaluator id must not be empty")
            return v.strip()
        t = v.get("type")
        if not isinstance(t, str) or not t:
            raise ValueError("an inline evaluator config needs a string `type`")
        return v


class RecipeSpec(BaseModel):
    """Items plus the threshold (0–100) a case's score must reach to pass."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    items: list[RecipeItem] = Field(min_length=1)
    pass_threshold: float = Field(default=DEFAULT_PASS_THRESHOLD, ge=0, le=100, allow_inf_nan=False)


@dataclass(slots=True)
class CaseScore:
    """The combined result for one case."""

    score: float | None
    status: CaseStatus
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


def _as_spec(spec_or_items: RecipeSpec | list[RecipeItem] | list[dict[str, Any]] | dict[str, Any]) -> RecipeSpec:
    if isinstance(spec_or_items, RecipeSpec):
        return spec_or_items
    if isinstance(spec_or_items, dict):
        return RecipeSpec.model_validate(spec_or_items)
    return RecipeSpec(items=[i if isinstance(i, RecipeItem) else RecipeItem.model_validate(i) for i in spec_or_items])


_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]*")


def describe_error(v: Verdict) -> str:
    """What failed and why, for an errored verdict: "<evaluator>: <message> (<code>)".

    Evaluators report an error either as a machine code (`parse_error`, with the message in `reason`)
    or as a message (with any output in `reason`); both end up in one readable line.
    """
    error = (v.error or "").strip()
    reason = (v.reason or "").strip()
    if not error:
        text = reason or "failed to run"
    elif _ERROR_CODE.fullmatch(error):
        text = f"{reason} ({error})" if reason else error
    elif reason and reason not in error:
        text = f"{error} (output: {reason})"
    else:
        text = error
    return f"{v.evaluator}: {text}"


def _line(v: Verdict) -> str:
    if v.status == "error":
        return describe_error(v)
    return f"{v.evaluator}: {v.reason}" if v.reason else v.evaluator


def _fmt(score: float) -> str:
    return f"{score:g}"


def combine(
    spec_or_items: RecipeSpec | list[RecipeItem] | list[dict[str, Any]] | dict[str, Any],
    verdicts: list[Verdict],
) -> CaseScore:
    """Combine per-evaluator verdicts (one per recipe item, same order) into one case score (see module doc)."""
    spec = _as_spec(spec_or_items)
    if len(verdicts) != len(spec.items):
        raise ValueError(f"expected {len(spec.items)} verdicts (one per recipe item), got {len(verdicts)}")

    total_w = 0.0
    acc = 0.0
    errors: list[Verdict] = []
    applicable: list[Verdict] = []
    failed: list[Verdict] = []
    required_failed: list[Verdict] = []
    per_item: list[dict[str, Any]] = []
    for item, v in zip(spec.items, verdicts, strict=True):
        counted = v.status in ("passed", "failed")
        if counted:
            s = v.score if v.score is not None and math.isfinite(v.score) else (1.0 if v.status == "passed" else 0.0)
            s = min(1.0, max(0.0, s))
            acc += item.weight * s
            total_w += item.weight
            applicable.append(v)
            if v.status == "failed":
                failed.append(v)
                if item.required:
                    required_failed.append(v)
        elif v.status == "error":
            errors.append(v)
        per_item.append(
            {
                "evaluator": v.evaluator,
                "weight": item.weight,
                "required": item.required,
                "status": v.status,
                "score": v.score,
                "counted": counted,
                "reason": v.reason,
            }
        )

    score = round(100.0 * acc / total_w, 2) if total_w else None
    partial: float | None = None
    threshold = spec.pass_threshold
    status: CaseStatus
    if errors:
        status = "error"
        n = len(errors)
        names = ", ".join(v.evaluator for v in errors)
        head = f"{n} evaluator{'s' if n > 1 else ''} failed to run ({names}): the case has no score."
        if score is not None:
            head += f" The evaluators that ran scored {_fmt(score)}."
        partial, score = score, None
        deciding = errors
    elif score is None:
        status = "passed"
        head = "No evaluator applied to this case."
        deciding = list(verdicts)
    elif required_failed:
        status = "failed"
        names = ", ".join(v.evaluator for v in required_failed)
        head = f"Required evaluator failed ({names}); score {_fmt(score)}."
        deciding = required_failed
    elif score >= threshold:
        status = "passed"
        head = f"Score {_fmt(score)} meets the pass threshold {_fmt(threshold)}."
        deciding = applicable
    else:
        status = "failed"
        head = f"Score {_fmt(score)} is below the pass threshold {_fmt(threshold)}."
        deciding = failed
    reason = "\n".join([head, *(_line(v) for v in deciding)])
    details: dict[str, Any] = {
        "pass_threshold": threshold,
        "applicable_weight": total_w,
        "evaluators": per_item,
    }
    if errors:
        details["partial_score"] = partial
    return CaseScore(score=score, status=status, reason=reason, details=details)


IMPLIED_TOOL_CALL_MATCH: dict[str, Any] = {
    "type": "tool_call_match",
    "name": "expected_tool_calls",
    "arguments": "subset",
    "ordered": False,
    "allow_extra": True,
}
"""The check a recipe gains for cases with `expected_tool_calls` when none of its evaluators reads them."""

_EXPECTED_CALLS_PLACEHOLDER = re.compile(r"\{\{\s*expected_tool_calls\s*\}\}")


def reads_expected_tool_calls(config: dict[str, Any]) -> bool:
    """Whether one (normalised, inline) evaluator config looks at a case's `expected_tool_calls`.

    A `tool_call_match` without its own `expected` list does; so does Hog code that names the
    `expected_tool_calls` global and a judge prompt with the `{{expected_tool_calls}}` placeholder.
    """
    kind = config.get("type")
    if kind in ("tool_call_match", "trajectory"):
        return config.get("expected") is None
    if kind == "hog":
        return any("expected_tool_calls" in str(config.get(k) or "") for k in ("source", "bytecode"))
    if kind == "llm_judge":
        return bool(_EXPECTED_CALLS_PLACEHOLDER.search(str(config.get("prompt") or "")))
    return False


def judge_config(prompt: str | None = None, output_type: Literal["boolean", "numeric"] = "boolean") -> dict[str, Any]:
    """An inline LLM-judge evaluator config. `prompt: None` means "judge against the case's expected behaviour"."""
    return {"type": "llm_judge", "prompt": prompt, "output_type": output_type}


def default_recipe_items(expected_behavior: str | None, expected_tool_calls: list[Any] | None) -> list[RecipeItem]:
    """The items of the default recipe (`domain/runs.py::default_recipe`) that apply to a case with these
    expectations: the LLM judge when `expected_behavior` is non-blank, the tool-call match when
    `expected_tool_calls` is non-empty (an empty list is taken as "not specified", since API clients commonly
    send `[]` as a default). With neither, the list is empty: such a case has nothing to be scored against.
    """
    recipe = default_recipe()
    case = CaseSpec(
        id="", input_message="", expected_behavior=expected_behavior, expected_tool_calls=expected_tool_calls
    )
    chosen = [recipe.items[n] for n in recipe.items_for(case)]
    return [RecipeItem(evaluator=dict(i.evaluator), weight=i.weight, required=i.required) for i in chosen]
