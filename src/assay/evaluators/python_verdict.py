"""What a Python evaluator's return value means: `verdict_from_return` turns it into a `Verdict`.

Accepted shapes (anything else is an `error` verdict naming the type it got):

- `bool`: passed (score 1) or failed (score 0);
- a number (int, float, a NumPy scalar): the score, on the declared scale: `unit` 0–1 or `percent` 0–100 (stored as 0–1); it passes at
  `pass_threshold` (0–1) and above; outside the scale, NaN or infinite is an error;
- `(score, reason)`: a bool or number as above and a string;
- a dict: `score` (bool or number) and/or `passed` (bool), optional `reason` (str), optional `status`
  (`not_applicable` says the check does not concern the case), optional `details` (dict);
- a `Verdict`: used as it is, under the evaluator's name.

Pure: no I/O, no imports of user code; the local evaluator and the sandboxed one share it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import replace
from typing import Any, Literal

from assay.domain.outcomes import Verdict

Scale = Literal["unit", "percent"]
DEFAULT_PASS_THRESHOLD = 0.7
"""Where a numeric score passes, on the unit scale (the same 70 of 100 as Hog evaluators and recipes)."""

_DICT_KEYS = frozenset({"score", "passed", "reason", "status", "details"})
_SHAPES = "a bool, a number, (score, reason), a dict with score/passed/reason, or a Verdict"


def error_verdict(message: str, *, name: str = "python") -> Verdict:
    """An `error` verdict with `message`."""
    return Verdict(name, "error", None, "", error=message)


def _score(value: Any, scale: Scale) -> float | str:
    """The score on the unit scale, or why `value` is not one."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if not isinstance(value, numbers.Real):  # int, float, and NumPy's scalars
        return f"the score must be a bool or a number, got {type(value).__name__}"
    number = float(value)
    top = 100.0 if scale == "percent" else 1.0
    if not math.isfinite(number) or not 0.0 <= number <= top:
        hint = " (declare scale: percent for scores 0-100)" if scale == "unit" and 1 < number <= 100 else ""
        return f"the score {value!r} is outside 0-{top:g} (scale {scale}){hint}"
    return number / top


def _decided(name: str, score: float, reason: str, passed: bool | None, threshold: float) -> Verdict:
    ok = score >= threshold if passed is None else passed
    return Verdict(name, "passed" if ok else "failed", score, reason, passed=ok)


def _from_dict(value: dict[Any, Any], scale: Scale, name: str, threshold: float) -> Verdict:
    unknown = sorted(str(k) for k in value if k not in _DICT_KEYS)
    if unknown:
        return error_verdict(f"unknown keys in the returned dict: {', '.join(unknown)}", name=name)
    reason = value.get("reason", "")
    if not isinstance(reason, str):
        return error_verdict(f"'reason' must be a string, got {type(reason).__name__}", name=name)
    details = value.get("details") or {}
    if not isinstance(details, dict):
        return error_verdict(f"'details' must be a dict, got {type(details).__name__}", name=name)
    status = value.get("status")
    if status == "not_applicable":
        return Verdict(name, "not_applicable", None, reason, details=details)
    if status is not None:
        return error_verdict(f"'status' may only be 'not_applicable', got {status!r}", name=name)
    passed = value.get("passed")
    if passed is not None and not isinstance(passed, bool):
        return error_verdict(f"'passed' must be a bool, got {type(passed).__name__}", name=name)
    if "score" not in value:
        if passed is None:
            return error_verdict("the returned dict needs 'score' or 'passed'", name=name)
        score: float | str = 1.0 if passed else 0.0
    else:
        score = _score(value["score"], scale)
    if isinstance(score, str):
        return error_verdict(score, name=name)
    verdict = _decided(name, score, reason, passed, threshold)
    verdict.details = details
    return verdict


def verdict_from_return(
    value: Any,
    *,
    scale: Scale,
    name: str = "python",
    pass_threshold: float = DEFAULT_PASS_THRESHOLD,
) -> Verdict:
    """The verdict a Python evaluator's return `value` stands for (see the module doc); never raises."""
    if isinstance(value, Verdict):
        return replace(value, evaluator=name)
    if isinstance(value, dict):
        return _from_dict(value, scale, name, pass_threshold)
    if isinstance(value, tuple):
        if len(value) != 2 or not isinstance(value[1], str):
            return error_verdict(f"a returned tuple must be (score, reason: str), got {_describe(value)}", name=name)
        score = _score(value[0], scale)
        if isinstance(score, str):
            return error_verdict(score, name=name)
        passed = value[0] if isinstance(value[0], bool) else None
        return _decided(name, score, value[1], passed, pass_threshold)
    if isinstance(value, bool | numbers.Real):
        score = _score(value, scale)
        if isinstance(score, str):
            return error_verdict(score, name=name)
        return _decided(name, score, "", value if isinstance(value, bool) else None, pass_threshold)
    return error_verdict(f"the evaluator must return {_SHAPES}; got {type(value).__name__}", name=name)


def _describe(value: tuple[Any, ...]) -> str:
    return "(" + ", ".join(type(v).__name__ for v in value) + ")"
