"""Comparing two runs of one evaluation case by case (pure: the caller loads the results).

Cases are paired by test case id; repetitions are averaged per case first, so a case weighs the same
whatever its repetitions. A case is paired when it has at least one scored result in both runs; the
others are listed as unpaired. An errored result is never scored (even one stored with the partial
score of the checks that ran): it is counted apart, in each run's `errors`. The paired per-case differences (head - base) feed the bootstrap CI,
the Wilcoxon signed-rank test and the sign test. Latency and tokens are over every result of a run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from assay.domain import stats

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240601


@dataclass(frozen=True, slots=True)
class ResultPoint:
    """What a comparison needs of one result."""

    test_case_id: str
    repetition: int
    status: str
    score: float | None
    reason: str | None
    latency_ms: float | None
    tokens_used: int | None


@dataclass(slots=True)
class CaseAggregate:
    """One case of one run: its scored repetitions averaged."""

    score: float
    pass_rate: float
    reason: str | None
    repetitions: int


def aggregate_cases(points: list[ResultPoint]) -> tuple[dict[str, CaseAggregate], set[str]]:
    """Per case: mean score and pass share over scored repetitions; and the cases with no score at all.

    A scored repetition is one with a score and a verdict (passed or failed); errors never count.
    """
    by_case: dict[str, list[ResultPoint]] = defaultdict(list)
    for p in points:
        by_case[p.test_case_id].append(p)
    scored: dict[str, CaseAggregate] = {}
    unscored: set[str] = set()
    for case_id, reps in by_case.items():
        if len(reps) == 1:  # the common case, without the sorting and searching below
            only = reps[0]
            if only.score is None or only.status not in ("passed", "failed"):
                unscored.add(case_id)
            else:
                passed = 1.0 if only.status == "passed" else 0.0
                scored[case_id] = CaseAggregate(score=only.score, pass_rate=passed, reason=only.reason, repetitions=1)
            continue
        reps.sort(key=lambda p: p.repetition)
        with_score = [p for p in reps if p.score is not None and p.status in ("passed", "failed")]
        if not with_score:
            unscored.add(case_id)
            continue
        scores = [p.score for p in with_score if p.score is not None]
        worst = min(with_score, key=lambda p: (p.score, p.repetition))
        scored[case_id] = CaseAggregate(
            score=sum(scores) / len(scores),
            pass_rate=sum(1 for p in with_score if p.status == "passed") / len(with_score),
            reason=worst.reason,
            repetitions=len(with_score),
        )
    return scored, unscored


def _r(value: float | None, digits: int = 4) -> float | None:
    return round(value, digits) if value is not None else None


def _change(head: float | None, base: float | None, digits: int = 4) -> float | None:
    return round(head - base, digits) if head is not None and base is not None else None


def run_figures(points: list[ResultPoint]) -> dict[str, Any]:
    """Result counts (errored results apart), latency (p50, mean) and tokens (total, mean per result) of one run."""
    latencies = [p.latency_ms for p in points if p.latency_ms is not None]
    tokens = [p.tokens_used for p in points if p.tokens_used is not None]
    return {
        "results": len(points),
        "cases": len({p.test_case_id for p in points}),
        "errors": sum(1 for p in points if p.status == "error"),
        "latency_p50_ms": _r(stats.percentile(latencies, 0.5), 2),
        "latency_mean_ms": _r(stats.mean(latencies), 2),
        "tokens_total": sum(tokens),
        "tokens_mean": _r(stats.mean(tokens), 2),
    }


def _case_change(case_id: str, base: CaseAggregate, head: CaseAggregate) -> dict[str, Any]:
    return {
        "test_case_id": case_id,
        "base_score": round(base.score, 4),
        "head_score": round(head.score, 4),
        "difference": round(head.score - base.score, 4),
        "base_pass_rate": round(base.pass_rate, 4),
        "head_pass_rate": round(head.pass_rate, 4),
        "base_reason": base.reason,
        "head_reason": head.reason,
    }


def compare_runs(
    base: list[ResultPoint],
    head: list[ResultPoint],
    *,
    alpha: float = 0.05,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """The comparison body (see module doc); `significant_regression` is mean difference < 0 and p < alpha."""
    base_cases, base_unscored = aggregate_cases(base)
    head_cases, head_unscored = aggregate_cases(head)
    paired = sorted(set(base_cases) & set(head_cases))
    diffs = [head_cases[c].score - base_cases[c].score for c in paired]
    mean_base = stats.mean([base_cases[c].score for c in paired])
    mean_head = stats.mean([head_cases[c].score for c in paired])
    mean_diff = stats.mean(diffs)
    ci = stats.paired_bootstrap_ci(diffs, resamples=resamples, seed=seed)
    wilcoxon = stats.wilcoxon_signed_rank(diffs)
    sign = stats.sign_test(diffs)
    pass_base = stats.mean([base_cases[c].pass_rate for c in paired])
    pass_head = stats.mean([head_cases[c].pass_rate for c in paired])
    changes = [_case_change(c, base_cases[c], head_cases[c]) for c in paired]
    base_fig, head_fig = run_figures(base), run_figures(head)
    all_base = set(base_cases) | base_unscored
    all_head = set(head_cases) | head_unscored
    significant = bool(
        mean_diff is not None and mean_diff < 0 and wilcoxon.p_value is not None and wilcoxon.p_value < alpha
    )
    return {
        "n_paired": len(paired),
        "alpha": alpha,
        "base": base_fig,
        "head": head_fig,
        "score": {
            "mean_base": _r(mean_base),
            "mean_head": _r(mean_head),
            "mean_difference": _r(mean_diff),
            "ci_low": _r(ci[0]) if ci else None,
            "ci_high": _r(ci[1]) if ci else None,
            "confidence": 0.95,
            "resamples": resamples,
            "seed": seed,
        },
        "wilcoxon": {
            "statistic": wilcoxon.statistic,
            "p_value": wilcoxon.p_value,
            "n_nonzero": wilcoxon.n_nonzero,
            "method": wilcoxon.method,
        },
        "sign_test": {
            "p_value": sign.p_value,
            "n_positive": sign.n_positive,
            "n_negative": sign.n_negative,
            "n_zero": sign.n_zero,
        },
        "pass_rate": {"base": _r(pass_base), "head": _r(pass_head), "change": _change(pass_head, pass_base)},
        "latency": {
            "p50_base_ms": base_fig["latency_p50_ms"],
            "p50_head_ms": head_fig["latency_p50_ms"],
            "p50_change_ms": _change(head_fig["latency_p50_ms"], base_fig["latency_p50_ms"], 2),
            "mean_base_ms": base_fig["latency_mean_ms"],
            "mean_head_ms": head_fig["latency_mean_ms"],
            "mean_change_ms": _change(head_fig["latency_mean_ms"], base_fig["latency_mean_ms"], 2),
        },
        "tokens": {
            "mean_base": base_fig["tokens_mean"],
            "mean_head": head_fig["tokens_mean"],
            "mean_change": _change(head_fig["tokens_mean"], base_fig["tokens_mean"], 2),
            "total_base": base_fig["tokens_total"],
            "total_head": head_fig["tokens_total"],
            "total_change": head_fig["tokens_total"] - base_fig["tokens_total"],
        },
        "regressed": sorted(
            (c for c in changes if c["difference"] < 0), key=lambda c: (c["difference"], c["test_case_id"])
        ),
        "improved": sorted(
            (c for c in changes if c["difference"] > 0), key=lambda c: (-c["difference"], c["test_case_id"])
        ),
        "unpaired": {
            "base_only": sorted(all_base - all_head),
            "head_only": sorted(all_head - all_base),
            "unscored": sorted((all_base & all_head) - set(paired)),
        },
        "significant_regression": significant,
    }


SIGNIFICANT_REGRESSION = "significant regression"
SIGNIFICANT_IMPROVEMENT = "significant improvement"
NO_SIGNIFICANT_CHANGE = "no significant change"


def verdict(body: dict[str, Any]) -> str:
    """One plain verdict for a comparison body: a mean change whose Wilcoxon p is below its alpha is significant."""
    if body["significant_regression"]:
        return SIGNIFICANT_REGRESSION
    difference, p_value = body["score"]["mean_difference"], body["wilcoxon"]["p_value"]
    if difference is not None and difference > 0 and p_value is not None and p_value < body["alpha"]:
        return SIGNIFICANT_IMPROVEMENT
    return NO_SIGNIFICANT_CHANGE


def unchanged_cases(base_cases: dict[str, CaseAggregate], head_cases: dict[str, CaseAggregate]) -> list[dict[str, Any]]:
    """The paired cases whose mean score did not move (the ones `compare_runs` lists neither as regressed nor
    improved), in the same shape, by test case id; from each run's `aggregate_cases`."""
    changes = (_case_change(c, base_cases[c], head_cases[c]) for c in sorted(set(base_cases) & set(head_cases)))
    return [c for c in changes if c["difference"] == 0]
