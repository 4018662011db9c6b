"""How consistent each evaluator is with itself across repetitions of the same case."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from assay.domain.stats import flip_rate, spread


def repetition_consistency(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per evaluator (and the case score as a whole): cases repeated, mean per-case score spread (standard
    deviation, 0–100) and verdict flip rate (share of cases whose pass/fail changed between repetitions).

    Empty when no case ran more than once.
    """
    by_case: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        by_case[r["case"]].append(r)
    repeated = [rows for rows in by_case.values() if len(rows) > 1]
    if not repeated:
        return []
    scores: dict[str, list[list[float]]] = defaultdict(list)
    verdicts: dict[str, list[list[bool]]] = defaultdict(list)
    for rows in repeated:
        case_scores: dict[str, list[float]] = defaultdict(list)
        case_verdicts: dict[str, list[bool]] = defaultdict(list)
        for r in rows:
            if r.get("score") is not None and r.get("status") in ("passed", "failed"):
                case_scores["case score"].append(float(r["score"]))
            if r.get("status") in ("passed", "failed"):
                case_verdicts["case score"].append(r["status"] == "passed")
            for v in r.get("evaluators") or []:
                name = str(v.get("evaluator"))
                if v.get("score") is not None:
                    case_scores[name].append(float(v["score"]) * 100)
                if v.get("status") in ("passed", "failed"):
                    case_verdicts[name].append(v["status"] == "passed")
        for name, values in case_scores.items():
            scores[name].append(values)
        for name, values in case_verdicts.items():
            verdicts[name].append(values)
    names = sorted(set(scores) | set(verdicts), key=lambda n: (n != "case score", n))
    out = []
    for name in names:
        score_sd = spread([g for g in scores.get(name, []) if len(g) > 1])
        flips = flip_rate([g for g in verdicts.get(name, []) if len(g) > 1])
        out.append(
            {
                "evaluator": name,
                "cases": len(repeated),
                "mean_score_sd": None if score_sd is None else round(score_sd, 2),
                "flip_rate": None if flips is None else round(flips, 4),
            }
        )
    return out
