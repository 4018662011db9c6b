"""The statistics of `assay.domain.stats` against scipy and hand-computed values."""

from __future__ import annotations

import itertools
import random

import pytest
from scipy import stats as sp

from assay.domain import stats


def brute_force_wilcoxon_p(diffs: list[float]) -> float:
    """Two-sided p by enumerating every sign assignment of the (tied) ranks."""
    nonzero = [d for d in diffs if d != 0]
    ranks = stats.rank_abs(nonzero)
    observed = sum(r for r, d in zip(ranks, nonzero, strict=True) if d > 0)
    sums = [
        sum(r for r, s in zip(ranks, signs, strict=True) if s) for signs in itertools.product([0, 1], repeat=len(ranks))
    ]
    low = sum(1 for s in sums if s <= observed + 1e-9) / len(sums)
    high = sum(1 for s in sums if s >= observed - 1e-9) / len(sums)
    return min(1.0, 2 * min(low, high))


@pytest.mark.parametrize("seed", range(8))
def test_wilcoxon_exact_matches_scipy_without_ties(seed):
    rng = random.Random(seed)
    n = rng.randint(3, 25)
    diffs = [rng.choice([-1, 1]) * v for v in rng.sample(range(1, 500), n)]
    result = stats.wilcoxon_signed_rank(diffs)
    expected = sp.wilcoxon(diffs, method="exact")
    assert result.method == "exact" and result.n_nonzero == n
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert min(result.statistic, n * (n + 1) / 2 - result.statistic) == expected.statistic


@pytest.mark.parametrize("seed", range(6))
def test_wilcoxon_exact_with_ties_and_zeros_matches_enumeration(seed):
    rng = random.Random(100 + seed)
    diffs = [rng.choice([-20, -10, 0, 10, 10, 30, -30, 5]) for _ in range(rng.randint(4, 12))]
    if all(d == 0 for d in diffs):
        diffs.append(10)
    result = stats.wilcoxon_signed_rank(diffs)
    assert result.p_value == pytest.approx(brute_force_wilcoxon_p(diffs), rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_wilcoxon_normal_approximation_matches_scipy(seed):
    rng = random.Random(200 + seed)
    diffs = [
        rng.choice([-50, -25, -10, 0, 0, 5, 10, 25, 40, 100]) + rng.choice([0, 0, 0.5])
        for _ in range(rng.randint(30, 120))
    ]
    result = stats.wilcoxon_signed_rank(diffs)
    expected = sp.wilcoxon(diffs, method="approx", correction=False, zero_method="wilcox")
    assert result.method == "normal" and result.n_nonzero > stats.EXACT_MAX_N
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_wilcoxon_hand_computed_and_degenerate():
    # Ten regressions of -100 and one improvement of +100: all ranks tie at 6, W+ = 6, P(k <= 1) = 12/2048.
    result = stats.wilcoxon_signed_rank([-100] * 10 + [100, 0])
    assert result.statistic == 6 and result.n_nonzero == 11 and result.p_value == pytest.approx(24 / 2048)
    assert stats.wilcoxon_signed_rank([0, 0]).p_value is None
    assert stats.wilcoxon_signed_rank([]).method == "none"


@pytest.mark.parametrize("pos,neg", [(0, 1), (1, 4), (3, 9), (10, 10), (40, 25), (7, 0)])
def test_sign_test_matches_binomtest(pos, neg):
    diffs = [1.5] * pos + [-2.0] * neg + [0.0] * 3
    result = stats.sign_test(diffs)
    assert (result.n_positive, result.n_negative, result.n_zero) == (pos, neg, 3)
    assert result.p_value == pytest.approx(sp.binomtest(pos, pos + neg, 0.5).pvalue, rel=1e-12)
    assert stats.sign_test([0.0]).p_value is None


def test_kappa_agreement_and_mae_by_hand():
    judge = [False, False, False, True, True]
    human = [True, False, False, True, True]
    # po = 0.8; pe = 0.4 * 0.6 + 0.6 * 0.4 = 0.48; kappa = 0.32 / 0.52
    assert stats.agreement_rate(judge, human) == pytest.approx(0.8)
    assert stats.cohen_kappa(judge, human) == pytest.approx(0.32 / 0.52)
    # 2x2 table a=20, b=5, c=10, d=15 (n=50): po = 0.7, pe = 0.5 * 0.6 + 0.5 * 0.4 = 0.5 -> kappa 0.4
    a = [True] * 25 + [False] * 25
    b = [True] * 20 + [False] * 5 + [True] * 10 + [False] * 15
    assert stats.cohen_kappa(a, b) == pytest.approx(0.4)
    assert stats.cohen_kappa([True, False], [False, True]) == pytest.approx(-1.0)
    assert stats.cohen_kappa([True, True], [True, True]) is None and stats.cohen_kappa([], []) is None
    assert stats.mean_absolute_error([0, 0, 0, 100, 100], [90, 20, 10, 80, 100]) == pytest.approx(28)
    assert stats.mean_absolute_error([], []) is None


def test_spread_and_flip_rate():
    assert stats.spread([[100, 0, 0], [100, 100, 100], [50]]) == pytest.approx((sp.tstd([100, 0, 0]) + 0) / 2)
    assert stats.flip_rate([[True, False, False], [True, True, True], [False]]) == 0.5
    assert stats.flip_rate([[True]]) is None and stats.spread([[1.0]]) is None


def test_percentile_matches_numpy_linear():
    values = [5.0, 1.0, 9.0, 3.0, 7.5]
    for q in (0, 0.25, 0.5, 0.9, 1):
        assert stats.percentile(values, q) == pytest.approx(float(sp.scoreatpercentile(values, q * 100)))


def test_bootstrap_ci_covers_truth_and_is_seeded():
    rng = random.Random(42)
    true_difference = -4.0
    diffs = [rng.gauss(true_difference, 10) for _ in range(200)]
    ci = stats.paired_bootstrap_ci(diffs, seed=7)
    assert ci is not None and ci[0] < true_difference < ci[1]
    assert ci[1] < 0  # a drop of 4 with sd 10 over 200 cases is clearly below zero
    sample_mean = sum(diffs) / len(diffs)
    assert ci[0] < sample_mean < ci[1] and ci[1] - ci[0] == pytest.approx(2 * 1.96 * 10 / 200**0.5, rel=0.25)
    assert stats.paired_bootstrap_ci(diffs, seed=7) == ci
    assert stats.paired_bootstrap_ci(diffs, seed=8) != ci
    assert stats.paired_bootstrap_ci([], seed=1) is None
    assert stats.paired_bootstrap_ci([-100.0] * 5) == (-100.0, -100.0)


def test_bootstrap_coverage_on_synthetic_data():
    covered = 0
    for trial in range(100):
        rng = random.Random(1000 + trial)
        diffs = [rng.gauss(2.0, 5) for _ in range(60)]
        low, high = stats.paired_bootstrap_ci(diffs, resamples=500, seed=trial)
        covered += low <= 2.0 <= high
    assert 88 <= covered <= 100  # nominal 95 %


@pytest.mark.parametrize("df", [1, 2, 5, 29, 30, 31, 45, 100, 1000, 100_000])
def test_t_critical_matches_scipy(df):
    assert stats.t_critical_975(df) == pytest.approx(sp.t.ppf(0.975, df), abs=1e-3)


@pytest.mark.parametrize("seed", range(4))
def test_mean_interval_matches_scipy_t_interval(seed):
    rng = random.Random(seed)
    values = [rng.uniform(0, 100) for _ in range(rng.randint(2, 3000))]
    low, high = stats.mean_confidence_interval(values)
    n = len(values)
    expected = sp.t.interval(0.95, n - 1, loc=sum(values) / n, scale=sp.sem(values))
    assert (low, high) == pytest.approx(expected, abs=1e-2)
    assert stats.mean_interval_from_moments(n, sum(values), sum(v * v for v in values)) == pytest.approx((low, high))


def test_mean_interval_needs_two_values_and_collapses_without_spread():
    assert stats.mean_confidence_interval([]) is None and stats.mean_confidence_interval([50.0]) is None
    assert stats.mean_confidence_interval([70.0, 70.0, 70.0]) == pytest.approx((70.0, 70.0))
