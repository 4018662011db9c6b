"""How much two runs' scores move by chance alone: the noise band that repetitions reveal.

A case run several times gets different scores from the agent's and the judge's randomness. Per run, the
within-case variance is pooled over the cases with at least two scored repetitions (the mean of their sample
variances). A case's mean over r repetitions then carries variance v / r, so, were nothing to change between
base and head, a paired case difference would have variance v_base / r_base + v_head / r_head and the mean
difference over n paired cases the n-th part of their mean. The band is ±1.96 standard deviations of each:
`case_band` for one case's change, `mean_band` for the headline change. A run without repeated cases borrows
the other run's variance (the same judge and agent are assumed to be as noisy in both).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from assay.domain.compare import CaseAggregate, ResultPoint, aggregate_cases
from assay.domain.stats import mean

Z_95 = 1.959964


def within_case_variance(points: list[ResultPoint]) -> tuple[float | None, int]:
    """Pooled within-case score variance over cases with two or more scored repetitions, and how many those are."""
    scores: dict[str, list[float]] = defaultdict(list)
    for p in points:
        if p.score is not None and p.status in ("passed", "failed"):
            scores[p.test_case_id].append(p.score)
    variances = []
    for values in scores.values():
        if len(values) >= 2:
            m = sum(values) / len(values)
            variances.append(sum((v - m) ** 2 for v in values) / (len(values) - 1))
    return mean(variances), len(variances)


def noise_band(
    base: list[ResultPoint],
    head: list[ResultPoint],
    base_cases: dict[str, CaseAggregate] | None = None,
    head_cases: dict[str, CaseAggregate] | None = None,
) -> dict[str, Any] | None:
    """The band (see module doc), or None when no case of either run was scored more than once or none is paired;
    pass each run's `aggregate_cases` when at hand."""
    v_base, repeated_base = within_case_variance(base)
    v_head, repeated_head = within_case_variance(head)
    if v_base is None and v_head is None:
        return None
    v_base = v_head if v_base is None else v_base
    v_head = v_base if v_head is None else v_head
    assert v_base is not None and v_head is not None
    base_cases = aggregate_cases(base)[0] if base_cases is None else base_cases
    head_cases = aggregate_cases(head)[0] if head_cases is None else head_cases
    paired = set(base_cases) & set(head_cases)
    if not paired:
        return None
    per_case = [v_base / base_cases[c].repetitions + v_head / head_cases[c].repetitions for c in paired]
    case_variance = sum(per_case) / len(per_case)
    case_band = Z_95 * math.sqrt(case_variance)
    return {
        "repeated_cases_base": repeated_base,
        "repeated_cases_head": repeated_head,
        "score_sd_base": round(math.sqrt(v_base), 4),
        "score_sd_head": round(math.sqrt(v_head), 4),
        "case_band": round(case_band, 4),
        "mean_band": round(case_band / math.sqrt(len(paired)), 4),
    }
