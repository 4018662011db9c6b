"""How reliable each judge of a suite is: the agreement figures of `agreement`, with a bootstrap CI for kappa,
the judge × human confusion matrix, and the cases that drive disagreement (largest |judge − human| among
reviewed results, and cases whose verdicts flip across repetitions).

Every pair and verdict is taken exactly as `agreement` takes it (`machine_verdicts`), so the figures here
equal the `/agreement` endpoint's.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from assay.domain import stats
from assay.domain.agreement import ReviewPoint, RunInfo, agreement_report, machine_verdicts
from assay.domain.resampling import multinomial

DRIVERS = 10
"""Cases listed per evaluator and kind of disagreement."""


@dataclass(frozen=True, slots=True)
class JudgePair:
    """One reviewed result as one evaluator saw it and as the human scored it (scores 0–100)."""

    result_id: str
    run_id: str
    test_case_id: str
    repetition: int
    judge_pass: bool
    judge_score: float
    human_pass: bool
    human_score: float

    @property
    def gap(self) -> float:
        return abs(self.judge_score - self.human_score)


@dataclass(frozen=True, slots=True)
class Repetition:
    """One repetition of a case as an evaluator saw it."""

    result_id: str
    repetition: int
    passed: bool
    score: float


@dataclass(frozen=True, slots=True)
class FlipCase:
    """A case of one run whose verdicts differ across repetitions."""

    run_id: str
    test_case_id: str
    repetitions: list[Repetition]

    @property
    def minority(self) -> int:
        """How many repetitions went against the majority verdict."""
        passes = sum(1 for r in self.repetitions if r.passed)
        return min(passes, len(self.repetitions) - passes)

    @property
    def score_range(self) -> float:
        scores = [r.score for r in self.repetitions]
        return max(scores) - min(scores)


def judge_pairs(points: list[ReviewPoint], runs: dict[str, RunInfo]) -> dict[str, list[JudgePair]]:
    """Per evaluator name (and `case`): the reviewed results with the machine's and the human's verdicts."""
    pairs: dict[str, list[JudgePair]] = defaultdict(list)
    for p in points:
        if not p.overridden or p.score is None:
            continue
        threshold = runs[p.run_id].pass_threshold
        for name, (verdict, value) in machine_verdicts(p, threshold).items():
            pairs[name].append(
                JudgePair(
                    p.result_id, p.run_id, p.test_case_id, p.repetition, verdict, value, p.score >= threshold, p.score
                )
            )
    return pairs


def flip_cases(points: list[ReviewPoint], runs: dict[str, RunInfo]) -> dict[str, list[FlipCase]]:
    """Per evaluator name: the cases (of runs with repetitions) whose verdicts are not all the same."""
    groups: dict[str, dict[tuple[str, str], list[Repetition]]] = defaultdict(lambda: defaultdict(list))
    for p in points:
        run = runs[p.run_id]
        if run.repetitions < 2:
            continue
        for name, (verdict, value) in machine_verdicts(p, run.pass_threshold).items():
            groups[name][(p.run_id, p.test_case_id)].append(Repetition(p.result_id, p.repetition, verdict, value))
    out: dict[str, list[FlipCase]] = {}
    for name, cases in groups.items():
        flips = [
            FlipCase(run_id, case_id, sorted(reps, key=lambda r: r.repetition))
            for (run_id, case_id), reps in cases.items()
            if len({r.passed for r in reps}) > 1
        ]
        out[name] = sorted(flips, key=lambda f: (-f.minority, -f.score_range, f.run_id, f.test_case_id))
    return out


def confusion_matrix(pairs: list[JudgePair]) -> dict[str, int]:
    """Counts of judge pass/fail × human pass/fail."""
    matrix = {
        "judge_pass_human_pass": 0,
        "judge_pass_human_fail": 0,
        "judge_fail_human_pass": 0,
        "judge_fail_human_fail": 0,
    }
    for pair in pairs:
        judge = "judge_pass" if pair.judge_pass else "judge_fail"
        human = "human_pass" if pair.human_pass else "human_fail"
        matrix[f"{judge}_{human}"] += 1
    return matrix


def kappa_bootstrap_ci(
    judge: list[bool], human: list[bool], *, resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float] | None:
    """Percentile bootstrap CI of Cohen's kappa, resampling the rated items with replacement (seeded).

    Kappa depends only on the four cells of the 2×2 table, so a resample of n items is one multinomial draw of
    the cell counts (`resampling.multinomial`): the same distribution as picking items, at a cost that does not
    grow with n. Resamples in which kappa is undefined (every verdict of both raters the same) are left out;
    None when kappa itself is undefined, for fewer than two items, or when fewer than half the resamples are
    defined.
    """
    n = len(judge)
    if n < 2 or stats.cohen_kappa(judge, human) is None:
        return None
    cells = [0, 0, 0, 0]  # (judge, human): both pass, judge only, human only, neither
    for j, h in zip(judge, human, strict=True):
        cells[(0 if h else 1) if j else (2 if h else 3)] += 1
    rng = random.Random(seed)
    values: list[float] = []
    for _ in range(resamples):
        kappa = _kappa_of_cells(multinomial(n, cells, rng))
        if kappa is not None:
            values.append(kappa)
    if len(values) * 2 < resamples:
        return None
    tail = (1 - confidence) / 2
    low, high = stats.percentile(values, tail), stats.percentile(values, 1 - tail)
    assert low is not None and high is not None
    return round(low, 4), round(high, 4)


def _kappa_of_cells(cells: list[int]) -> float | None:
    """`stats.cohen_kappa` from the 2×2 counts (both pass, judge only, human only, neither)."""
    both, judge_only, human_only, neither = cells
    n = both + judge_only + human_only + neither
    if n == 0:
        return None
    observed = (both + neither) / n
    judge_rate, human_rate = (both + judge_only) / n, (both + human_only) / n
    chance = judge_rate * human_rate + (1 - judge_rate) * (1 - human_rate)
    if chance == 1:
        return None
    return (observed - chance) / (1 - chance)


def reliability_report(
    points: list[ReviewPoint], runs: dict[str, RunInfo], *, drivers: int = DRIVERS
) -> dict[str, Any]:
    """`agreement_report` with, per evaluator, the kappa CI, the confusion matrix and the disagreement drivers."""
    report = agreement_report(points, runs)
    pairs = judge_pairs(points, runs)
    flips = flip_cases(points, runs)
    for entry in report["evaluators"]:
        name = entry["evaluator"]
        rated = pairs.get(name, [])
        if entry["human"] is not None:
            entry["human"] = {
                **entry["human"],
                "kappa_ci": kappa_bootstrap_ci([p.judge_pass for p in rated], [p.human_pass for p in rated]),
                "confusion": confusion_matrix(rated),
            }
        entry["disagreements"] = sorted(
            (p for p in rated if p.gap > 0), key=lambda p: (-p.gap, p.run_id, p.test_case_id, p.repetition)
        )[:drivers]
        entry["flips"] = flips.get(name, [])[:drivers]
        entry["flip_cases"] = len(flips.get(name, []))
    return report
