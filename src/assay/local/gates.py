"""The gates of a run (`assay run --fail-under/--max-errors`, the pytest plugin): what a summary must reach."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Gate:
    """`pass_rate >= value` (0-1) or `score >= value` (mean score, 0-100)."""

    metric: str
    value: float

    def check(self, summary: Mapping[str, object]) -> str | None:
        """None when met, else why not."""
        key = "pass_rate" if self.metric == "pass_rate" else "mean_score"
        actual = summary.get(key)
        if not isinstance(actual, int | float) or actual < self.value:
            shown = "none" if actual is None else f"{actual:g}"
            return f"{self.metric} {shown} is under --fail-under {self.metric}={self.value:g}"
        return None


def parse_gate(text: str) -> Gate:
    """`0.8` or `pass_rate=0.8` (fraction of cases passing), `score=70` (mean score 0-100); ValueError otherwise."""
    metric, sep, raw = text.partition("=")
    if not sep:
        metric, raw = "pass_rate", text
    metric = {"pass_rate": "pass_rate", "pass-rate": "pass_rate", "score": "score", "mean_score": "score"}.get(
        metric.strip(), ""
    )
    try:
        value = float(raw)
    except ValueError:
        metric = ""
    if not metric:
        raise ValueError(f"{text!r}: use a pass rate such as 0.8, pass_rate=0.8, or score=70")
    if metric == "pass_rate" and not 0 <= value <= 1:
        raise ValueError(f"{text!r}: a pass rate is a fraction from 0 to 1 (use score=N for scores)")
    if metric == "score" and not 0 <= value <= 100:
        raise ValueError(f"{text!r}: a score is from 0 to 100")
    return Gate(metric, value)


def gate_problems(
    summary: Mapping[str, object], gates: list[Gate], *, max_errors: int | None, status: str, error: str | None
) -> list[str]:
    """Every gate the run missed: `gates`, more errors than `max_errors`, a run that did not complete."""
    problems = [p for g in gates if (p := g.check(summary))]
    errors = int(summary.get("error", 0) or 0)  # type: ignore[call-overload]
    if max_errors is not None and errors > max_errors:
        problems.append(f"{errors} errors exceed --max-errors {max_errors}")
    if status != "completed":
        problems.append(f"the run {status}: {error or ''}".strip())
    return problems
