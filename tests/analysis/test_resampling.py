"""Resampling by counts of distinct values: binomial and multinomial draws match their distributions, and the
bootstrap CI they give matches resampling the values one by one."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from scipy import stats as sp

from assay.domain import resampling, stats


@pytest.mark.parametrize(("n", "p"), [(20, 0.1), (40, 0.5), (1000, 0.03), (5000, 0.3), (300, 0.8), (10_000, 0.5)])
def test_binomial_draws_follow_the_binomial(n: int, p: float) -> None:
    rng = random.Random(n)
    draws = [resampling.binomial(n, p, rng) for _ in range(20_000)]
    assert all(0 <= d <= n for d in draws)
    mean, sd = n * p, (n * p * (1 - p)) ** 0.5
    assert sum(draws) / len(draws) == pytest.approx(mean, abs=4 * sd / len(draws) ** 0.5 + 1e-9)
    # Kolmogorov–Smirnov distance of the empirical CDF from the exact one, on the support's likely part
    counts = Counter(draws)
    cdf = 0.0
    worst = 0.0
    for k in range(max(0, int(mean - 6 * sd) - 1), min(n, int(mean + 6 * sd) + 1) + 1):
        cdf += counts.get(k, 0) / len(draws)
        worst = max(worst, abs(cdf - float(sp.binom.cdf(k, n, p))))
    assert worst < 0.015


def test_binomial_edges() -> None:
    rng = random.Random(1)
    assert resampling.binomial(0, 0.5, rng) == 0 and resampling.binomial(7, 0.0, rng) == 0
    assert resampling.binomial(7, 1.0, rng) == 7


def test_multinomial_counts_add_up_and_have_the_right_means() -> None:
    rng = random.Random(3)
    weights = [5000, 3000, 1500, 500]
    totals = [0] * 4
    for _ in range(500):
        counts = resampling.multinomial(10_000, weights, rng)
        assert sum(counts) == 10_000
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
    assert [t / 500 for t in totals] == pytest.approx(weights, rel=0.01)


def test_bootstrap_by_counts_matches_resampling_one_by_one() -> None:
    rng = random.Random(11)
    diffs = [rng.choice([-100.0, 0.0, 0.0, 0.0, 50.0, 100.0]) for _ in range(4000)]
    assert len(set(diffs)) < resampling.COUNTS_BELOW * len(diffs)  # the counts path
    by_counts = stats.paired_bootstrap_ci(diffs, resamples=2000, seed=5)
    one_by_one = random.Random(5)
    means = sorted(sum(one_by_one.choices(diffs, k=len(diffs))) / len(diffs) for _ in range(2000))
    expected = (stats.percentile(means, 0.025), stats.percentile(means, 0.975))
    assert by_counts is not None
    assert by_counts == pytest.approx(expected, abs=0.6)  # Monte Carlo error of both: sd/sqrt(n) is about 0.8
    assert stats.paired_bootstrap_ci(diffs, resamples=2000, seed=5) == by_counts
    assert stats.paired_bootstrap_ci(diffs, resamples=2000, seed=6) != by_counts


def test_sign_test_is_exact_at_size() -> None:
    diffs = [1.0] * 4100 + [-1.0] * 3900 + [0.0] * 10
    result = stats.sign_test(diffs)
    assert result.p_value == pytest.approx(float(sp.binomtest(3900, 8000, 0.5).pvalue), rel=1e-9)


def test_large_varied_samples_resample_in_numpy_blocks_with_the_same_distribution() -> None:
    import random
    import statistics

    from assay.domain.resampling import VECTORISED_FROM, bootstrap_means

    rng = random.Random(7)
    values = [rng.uniform(-40, 40) for _ in range(VECTORISED_FROM * 3)]
    first = bootstrap_means(values, 3000, random.Random(1))
    assert first == bootstrap_means(values, 3000, random.Random(1))  # the seed decides everything
    assert first != bootstrap_means(values, 3000, random.Random(2))
    # The bootstrap distribution of a mean: centred on the sample mean, spread = standard error.
    standard_error = statistics.stdev(values) / len(values) ** 0.5
    assert abs(statistics.mean(first) - statistics.mean(values)) < 0.1 * standard_error
    assert abs(statistics.stdev(first) / standard_error - 1) < 0.08
