"""Agreement read per reviewer and between reviewers.

A reviewer's verdict on a result is the score of their latest override of it that still stands (an undone
override, and an undo itself, is no verdict). Per reviewer, judge–human agreement is `agreement.human_agreement`
over the results they scored, with their score as the human one. Between two reviewers, Cohen's kappa
(`stats.cohen_kappa`) of their pass verdicts (score ≥ the run's pass threshold) on the results both scored.
"""

from __future__ import annotations

import dataclasses
from itertools import combinations
from typing import Any

from assay.domain import stats
from assay.domain.agreement import CASE, ReviewPoint, RunInfo, human_agreement


def standing_scores(entries: list[dict[str, Any]]) -> dict[str, float]:
    """Per reviewer (`by`), the score of their latest override that was not undone."""
    undone = {e["undoes"] for e in entries if isinstance(e.get("undoes"), int)}
    scores: dict[str, float] = {}
    for index, entry in enumerate(entries):
        if "undoes" in entry or index in undone:
            continue
        by, score = entry.get("by"), entry.get("score")
        if isinstance(by, str) and isinstance(score, int | float):
            scores[by] = float(score)
    return scores


def reviewer_points(
    points: list[ReviewPoint], overrides: dict[str, list[dict[str, Any]]]
) -> dict[str, list[ReviewPoint]]:
    """Per reviewer: the results they scored, each with the reviewer's score in place of the final one."""
    out: dict[str, list[ReviewPoint]] = {}
    for point in points:
        for reviewer, score in standing_scores(overrides.get(point.result_id, [])).items():
            out.setdefault(reviewer, []).append(dataclasses.replace(point, score=score, overridden=True))
    return out


def per_reviewer_agreement(
    points: list[ReviewPoint], overrides: dict[str, list[dict[str, Any]]], runs: dict[str, RunInfo]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per reviewer, per evaluator name (the case score first): `human_agreement` of the judge with that reviewer."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for reviewer, scored in sorted(reviewer_points(points, overrides).items()):
        human = human_agreement(scored, runs)
        out[reviewer] = dict(sorted(human.items(), key=lambda item: (item[0] != CASE, item[0])))
    return out


def inter_annotator(
    points: list[ReviewPoint], overrides: dict[str, list[dict[str, Any]]], runs: dict[str, RunInfo]
) -> list[dict[str, Any]]:
    """For each pair of reviewers who scored results in common: n, agreement rate and Cohen's kappa of their
    verdicts, and the mean absolute difference of their scores."""
    by_result: list[tuple[float, dict[str, float]]] = []
    for point in points:
        scores = standing_scores(overrides.get(point.result_id, []))
        if len(scores) >= 2:
            by_result.append((runs[point.run_id].pass_threshold, scores))
    reviewers = sorted({name for _, scores in by_result for name in scores})
    pairs: list[dict[str, Any]] = []
    for first, second in combinations(reviewers, 2):
        common = [(t, s[first], s[second]) for t, s in by_result if first in s and second in s]
        if not common:
            continue
        a = [x >= t for t, x, _ in common]
        b = [y >= t for t, _, y in common]
        kappa = stats.cohen_kappa(a, b)
        rate = stats.agreement_rate(a, b)
        pairs.append(
            {
                "reviewers": (first, second),
                "n": len(common),
                "agreement_rate": round(rate, 4) if rate is not None else None,
                "kappa": round(kappa, 4) if kappa is not None else None,
                "mean_absolute_difference": round(
                    stats.mean_absolute_error([x for _, x, _ in common], [y for _, _, y in common]) or 0.0, 4
                ),
            }
        )
    return pairs
