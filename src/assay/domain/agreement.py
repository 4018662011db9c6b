"""How far judges (and case scores) can be trusted: agreement with people and stability across repetitions.

Human agreement uses results a person overrode: the human verdict is the final score ≥ the run's pass
threshold. Per evaluator (by name in `evaluator_results`, passed or failed verdicts only) the judge
verdict is its `passed` flag (else its status) and its score is `score × 100`; for the case as a whole
(`evaluator: "case"`) the judge score is the `original_score` and its verdict that score ≥ threshold.

Stability uses runs with more than one repetition: per case, the scores (pre-override) of every
repetition give a sample standard deviation and a flip when the verdicts differ.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from assay.domain import stats
from assay.domain.runs import RunRecipe

CASE = "case"
"""Pseudo evaluator name for the case score as a whole."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What agreement needs of a run's snapshot."""

    run_id: str
    pass_threshold: float
    repetitions: int
    evaluator_types: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReviewPoint:
    """What agreement needs of one result."""

    run_id: str
    test_case_id: str
    repetition: int
    score: float | None
    original_score: float | None
    overridden: bool
    evaluator_results: list[dict[str, Any]]
    result_id: str = ""


def machine_verdicts(point: ReviewPoint, threshold: float) -> dict[str, tuple[bool, float]]:
    """Machine verdicts before any override, per evaluator name and for the case: (passed, score 0-100)."""
    out: dict[str, tuple[bool, float]] = {}
    for item in point.evaluator_results:
        name, status, score = item.get("evaluator"), item.get("status"), item.get("score")
        if not isinstance(name, str) or status not in ("passed", "failed"):
            continue
        passed = item.get("passed")
        verdict = bool(passed) if isinstance(passed, bool) else status == "passed"
        value = float(score) * 100 if isinstance(score, int | float) else (100.0 if verdict else 0.0)
        out[name] = (verdict, value)
    machine = point.original_score if point.overridden else point.score
    if machine is not None:
        out[CASE] = (machine >= threshold, machine)
    return out


def _r(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def human_agreement(points: list[ReviewPoint], runs: dict[str, RunInfo]) -> dict[str, dict[str, Any]]:
    """Per evaluator name: n, agreement rate, Cohen's kappa and MAE against the human final score."""
    pairs: dict[str, list[tuple[bool, float, bool, float]]] = defaultdict(list)
    for p in points:
        if not p.overridden or p.score is None:
            continue
        threshold = runs[p.run_id].pass_threshold
        human_pass = p.score >= threshold
        for name, (verdict, value) in machine_verdicts(p, threshold).items():
            pairs[name].append((verdict, value, human_pass, p.score))
    out: dict[str, dict[str, Any]] = {}
    for name, rows in pairs.items():
        judge_v, judge_s = [r[0] for r in rows], [r[1] for r in rows]
        human_v, human_s = [r[2] for r in rows], [r[3] for r in rows]
        out[name] = {
            "n": len(rows),
            "agreement_rate": _r(stats.agreement_rate(judge_v, human_v)),
            "kappa": _r(stats.cohen_kappa(judge_v, human_v)),
            "mean_absolute_error": _r(stats.mean_absolute_error(judge_s, human_s)),
            "judge_pass_rate": _r(sum(judge_v) / len(rows)),
            "human_pass_rate": _r(sum(human_v) / len(rows)),
        }
    return out


def repetition_stability(points: list[ReviewPoint], runs: dict[str, RunInfo]) -> dict[str, dict[str, Any]]:
    """Per evaluator name over runs with repetitions: cases, mean per-case score SD (0-100) and flip rate."""
    groups: dict[str, dict[tuple[str, str], list[tuple[bool, float]]]] = defaultdict(lambda: defaultdict(list))
    for p in points:
        run = runs[p.run_id]
        if run.repetitions < 2:
            continue
        for name, verdict in machine_verdicts(p, run.pass_threshold).items():
            groups[name][(p.run_id, p.test_case_id)].append(verdict)
    out: dict[str, dict[str, Any]] = {}
    for name, cases in groups.items():
        eligible = [v for v in cases.values() if len(v) >= 2]
        if not eligible:
            continue
        out[name] = {
            "cases": len(eligible),
            "mean_score_sd": _r(stats.spread([[s for _, s in v] for v in eligible])),
            "mean_score_range": _r(stats.mean([max(s for _, s in v) - min(s for _, s in v) for v in eligible])),
            "flip_rate": _r(stats.flip_rate([[b for b, _ in v] for v in eligible])),
        }
    return out


def evaluator_types(runs: dict[str, RunInfo]) -> dict[str, str]:
    """Evaluator name -> type across runs (`case` for the case score)."""
    types = {CASE: CASE}
    for run in runs.values():
        types.update(run.evaluator_types)
    return types


def agreement_report(points: list[ReviewPoint], runs: dict[str, RunInfo]) -> dict[str, Any]:
    """Human agreement and repetition stability, one entry per evaluator name (the case score first)."""
    human = human_agreement(points, runs)
    stability = repetition_stability(points, runs)
    types = evaluator_types(runs)
    names = sorted(set(human) | set(stability), key=lambda n: (n != CASE, n))
    return {
        "runs": len(runs),
        "reviewed_results": sum(1 for p in points if p.overridden and p.score is not None),
        "repeated_runs": sum(1 for r in runs.values() if r.repetitions > 1),
        "evaluators": [
            {"evaluator": n, "type": types.get(n), "human": human.get(n), "repetitions": stability.get(n)}
            for n in names
        ],
    }


def snapshot_run_info(run_id: str, recipe: RunRecipe, repetitions: int) -> RunInfo:
    """Threshold, repetitions and the types of the recipe's evaluators, from a run's snapshot."""
    types: dict[str, str] = {}
    for item in recipe.listed_items:
        config = item.evaluator
        if isinstance(config.get("type"), str):
            types[str(config.get("name") or config["type"])] = config["type"]
    return RunInfo(
        run_id=run_id,
        pass_threshold=recipe.pass_threshold,
        repetitions=repetitions,
        evaluator_types=types,
    )
