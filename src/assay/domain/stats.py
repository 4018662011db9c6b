"""Statistics for comparing runs and judging judges, in pure Python (no numpy or scipy at runtime).

- `paired_bootstrap_ci`: percentile bootstrap of the mean of paired differences, seeded; resampled by counts
  of distinct values when they repeat (`resampling.py`).
- `wilcoxon_signed_rank`: two-sided; zeros are dropped (Wilcoxon's method, as scipy's default). The exact
  distribution of W+ given the observed (possibly tied) ranks for up to `EXACT_MAX_N` non-zero
  differences, otherwise the normal approximation with the tie correction of the variance.
- `sign_test`: exact two-sided binomial test with p = 1/2 on the non-zero differences.
- `cohen_kappa`, `agreement_rate`, `mean_absolute_error`, `spread`, `flip_rate`: agreement between raters
  and stability across repetitions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from assay.domain.resampling import bootstrap_means

EXACT_MAX_N = 25
"""Wilcoxon: exact distribution up to this many non-zero differences, normal approximation beyond."""


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, None for no values."""
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation percentile (q in [0, 1]), as numpy's default; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    index = (len(ordered) - 1) * q
    low = math.floor(index)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def stdev(values: Sequence[float]) -> float | None:
    """Sample standard deviation (n - 1); None for fewer than two values."""
    if len(values) < 2:
        return None
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def paired_bootstrap_ci(
    differences: Sequence[float], *, resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float] | None:
    """Percentile bootstrap CI of the mean paired difference; the same seed gives the same interval."""
    n = len(differences)
    if n == 0:
        return None
    means = sorted(bootstrap_means(differences, resamples, random.Random(seed)))
    tail = (1 - confidence) / 2
    low, high = percentile(means, tail), percentile(means, 1 - tail)
    assert low is not None and high is not None
    return low, high


def rank_abs(values: Sequence[float]) -> list[float]:
    """Ranks (1-based) of |values|, ties given their average rank."""
    order = sorted(range(len(values)), key=lambda i: abs(values[i]))
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and abs(values[order[j + 1]]) == abs(values[order[i]]):
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


@dataclass(frozen=True, slots=True)
class WilcoxonResult:
    """W+ (sum of ranks of positive differences), two-sided p-value, non-zero count and method."""

    statistic: float | None
    p_value: float | None
    n_nonzero: int
    method: str


def _exact_p(ranks: list[float], w_plus: float) -> float:
    """Two-sided p from the exact distribution of W+ over the 2^n sign assignments of these ranks."""
    doubled = [round(2 * r) for r in ranks]  # tied ranks are halves: doubling makes them integers
    total = sum(doubled)
    counts = [0] * (total + 1)
    counts[0] = 1
    for r in doubled:
        for s in range(total, r - 1, -1):
            counts[s] += counts[s - r]
    observed = round(2 * w_plus)
    low = sum(counts[: observed + 1])
    high = sum(counts[observed:])
    return min(1.0, 2 * min(low, high) / (1 << len(ranks)))


def wilcoxon_signed_rank(differences: Sequence[float]) -> WilcoxonResult:
    """Two-sided Wilcoxon signed-rank test of paired differences against a zero median."""
    nonzero = [d for d in differences if d != 0]
    n = len(nonzero)
    if n == 0:
        return WilcoxonResult(None, None, 0, "none")
    ranks = rank_abs(nonzero)
    w_plus = sum(r for r, d in zip(ranks, nonzero, strict=True) if d > 0)
    if n <= EXACT_MAX_N:
        return WilcoxonResult(w_plus, _exact_p(ranks, w_plus), n, "exact")
    expected = n * (n + 1) / 4
    tie_counts: dict[float, int] = {}
    for r in ranks:
        tie_counts[r] = tie_counts.get(r, 0) + 1
    variance = n * (n + 1) * (2 * n + 1) / 24 - sum(t**3 - t for t in tie_counts.values()) / 48
    if variance <= 0:
        return WilcoxonResult(w_plus, 1.0, n, "normal")
    z = (w_plus - expected) / math.sqrt(variance)
    return WilcoxonResult(w_plus, min(1.0, math.erfc(abs(z) / math.sqrt(2))), n, "normal")


@dataclass(frozen=True, slots=True)
class SignTestResult:
    """Counts of positive, negative and zero differences and the exact two-sided p-value."""

    n_positive: int
    n_negative: int
    n_zero: int
    p_value: float | None


def sign_test(differences: Sequence[float]) -> SignTestResult:
    """Exact two-sided binomial sign test (p = 1/2) on the non-zero differences."""
    pos = sum(1 for d in differences if d > 0)
    neg = sum(1 for d in differences if d < 0)
    zero = len(differences) - pos - neg
    n = pos + neg
    if n == 0:
        return SignTestResult(pos, neg, zero, None)
    k = min(pos, neg)
    term = tail = 1  # C(n, 0); each next C(n, i) from the last one, exactly
    for i in range(1, k + 1):
        term = term * (n - i + 1) // i
        tail += term
    return SignTestResult(pos, neg, zero, min(1.0, 2 * tail / 2**n))


def agreement_rate(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Share of items on which two raters give the same verdict."""
    if not a:
        return None
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Cohen's kappa for two raters' pass/fail verdicts; None when undefined (no items, or chance agreement 1)."""
    n = len(a)
    if n == 0:
        return None
    observed = agreement_rate(a, b)
    assert observed is not None
    pa, pb = sum(a) / n, sum(b) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    if chance == 1:
        return None
    return (observed - chance) / (1 - chance)


def mean_absolute_error(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Mean of |a_i - b_i|."""
    if not a:
        return None
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def spread(groups: Sequence[Sequence[float]]) -> float | None:
    """Mean per-group sample standard deviation over the groups with at least two values."""
    sds = [s for s in (stdev(g) for g in groups) if s is not None]
    return sum(sds) / len(sds) if sds else None


def flip_rate(groups: Sequence[Sequence[bool]]) -> float | None:
    """Share of groups (with at least two verdicts) whose verdicts are not all the same."""
    eligible = [g for g in groups if len(g) >= 2]
    if not eligible:
        return None
    return sum(1 for g in eligible if len(set(g)) > 1) / len(eligible)


_T_975 = (
    *(12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131),
    *(2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042),
)
_Z_975 = 1.959963984540054


def t_critical_975(df: int) -> float:
    """The 97.5 % quantile of Student's t with `df` degrees of freedom (a table up to 30, then the
    Cornish-Fisher expansion around the normal quantile, within 1e-4 of the exact value)."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(_T_975):
        return _T_975[df - 1]
    z = _Z_975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def mean_confidence_interval(values: Sequence[float]) -> tuple[float, float] | None:
    """The 95 % Student t interval of the mean; None for fewer than two values."""
    return mean_interval_from_moments(len(values), sum(values), sum(v * v for v in values))


def mean_interval_from_moments(n: int, total: float, square_total: float) -> tuple[float, float] | None:
    """The 95 % Student t interval of a mean from the count, sum and sum of squares (as SQL aggregates give them)."""
    if n < 2:
        return None
    m = total / n
    variance = max(0.0, (square_total - total * total / n) / (n - 1))
    half = t_critical_975(n - 1) * math.sqrt(variance / n)
    return m - half, m + half
