"""What an evaluator's return value means: a bool, None, a number, `(value, reason)`, or a dict.

The worker applies it to every result, and so does a test or a local run of the same function, so both give
the same verdict. The result is a plain dict: `passed` (bool or None), `score` (0..1 or None), `reason`
(str) and `applicable` (False only for None or an explicit `applicable: False`).
"""

from __future__ import annotations

import math
from typing import Any

MAX_REASON_CHARS = 2000


class BadReturnValue(ValueError):
    """The evaluator returned something that is not a verdict."""


def _score(value: Any, scale: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadReturnValue(f"score must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise BadReturnValue(f"score must be finite, got {value!r}")
    score = float(value) / scale
    if not 0.0 <= score <= 1.0:
        top = "1" if scale == 1 else f"{scale:g}"
        raise BadReturnValue(f"score must be between 0 and {top}, got {value!r}")
    return score


def _from_value(value: Any, scale: float, threshold: float) -> dict[str, Any]:
    if value is None:
        return {"passed": None, "score": None, "applicable": False}
    if isinstance(value, bool):
        return {"passed": value, "score": 1.0 if value else 0.0, "applicable": True}
    score = _score(value, scale)
    return {"passed": score >= threshold, "score": score, "applicable": True}


def _reason(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text[:MAX_REASON_CHARS]


def coerce_result(result: Any, *, scale: float = 1.0, threshold: float = 0.5) -> dict[str, Any]:
    """The verdict `result` stands for; raises BadReturnValue with the reason when it stands for none.

    `scale` is what a full score is (1 or 100); a number passes when `score >= threshold` (0..1).
    """
    if isinstance(result, tuple | list):
        if len(result) != 2:
            raise BadReturnValue(f"a returned sequence must be (score, reason), got {len(result)} items")
        verdict = _from_value(result[0], scale, threshold)
        verdict["reason"] = "" if result[1] is None else _reason(result[1])
        return verdict
    if isinstance(result, dict):
        unknown = sorted(str(k) for k in result if k not in ("passed", "score", "reason", "applicable"))
        if unknown:
            raise BadReturnValue(f"unknown keys in the returned dict: {', '.join(unknown)}")
        applicable = result.get("applicable", True)
        if not isinstance(applicable, bool):
            raise BadReturnValue("applicable must be a boolean")
        passed = result.get("passed")
        if passed is not None and not isinstance(passed, bool):
            raise BadReturnValue("passed must be a boolean")
        reason = result.get("reason")
        reason_text = "" if reason is None else _reason(reason)
        if not applicable:
            return {"passed": None, "score": None, "applicable": False, "reason": reason_text}
        score = result.get("score")
        if score is None and passed is None:
            raise BadReturnValue("a returned dict needs passed or score (or applicable: False)")
        verdict = _from_value(passed if score is None else score, scale, threshold)
        if passed is not None:
            verdict["passed"] = passed
        verdict["reason"] = reason_text
        return verdict
    if result is None or isinstance(result, bool | int | float):
        verdict = _from_value(result, scale, threshold)
        verdict["reason"] = ""
        return verdict
    raise BadReturnValue(
        f"evaluate() returned {type(result).__name__}: return a bool, a number, (score, reason), a dict or None"
    )
