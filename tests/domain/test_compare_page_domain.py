"""The word diff, the repetition noise band, the comparison verdict and the default pair of runs."""

from __future__ import annotations

import math
import uuid

import pytest

from assay.domain.compare import (
    NO_SIGNIFICANT_CHANGE,
    SIGNIFICANT_IMPROVEMENT,
    SIGNIFICANT_REGRESSION,
    ResultPoint,
    aggregate_cases,
    compare_runs,
    unchanged_cases,
    verdict,
)
from assay.domain.noise_band import noise_band, within_case_variance
from assay.domain.word_diff import tokens, word_diff_html
from assay.services.analysis import default_pair


def point(case: str, score: float | None, rep: int = 0, status: str = "passed") -> ResultPoint:
    return ResultPoint(case, rep, status, score, None, 10.0, 5)


def test_tokens_keep_the_text() -> None:
    text = "Hello,  world\n\tagain "
    assert "".join(tokens(text)) == text and tokens("a b") == ["a", " ", "b"]


def test_word_diff_marks_and_escapes() -> None:
    old, new = word_diff_html("ships on <b>Monday</b> & soon", "ships on Friday & soon")
    assert old == 'ships on <del class="diff-del">&lt;b&gt;Monday&lt;/b&gt;</del> &amp; soon'
    assert new == 'ships on <ins class="diff-add">Friday</ins> &amp; soon'
    assert word_diff_html("same words", "same words") == ("same words", "same words")
    assert word_diff_html("", "new") == ("", '<ins class="diff-add">new</ins>')
    long_old, long_new = word_diff_html("word " * 5000, "word " * 4999 + "other ")
    assert "diff-add" in long_new and long_old.count("word") == 5000


def test_noise_band_from_repetitions() -> None:
    base = [point("a", 40, 0), point("a", 60, 1), point("b", 70, 0), point("b", 90, 1)]
    head = [point("a", 50, 0), point("a", 50, 1), point("b", 80, 0), point("b", 80, 1), point("c", 10)]
    assert within_case_variance(base) == (200, 2) and within_case_variance(head) == (0, 2)
    band = noise_band(base, head)
    assert band is not None
    case_band = 1.959964 * math.sqrt(200 / 2 + 0 / 2)
    assert band["case_band"] == pytest.approx(case_band, abs=1e-4)
    assert band["mean_band"] == pytest.approx(case_band / math.sqrt(2), abs=1e-4)
    assert band["score_sd_base"] == pytest.approx(math.sqrt(200), abs=1e-4) and band["score_sd_head"] == 0


def test_noise_band_borrows_and_needs_repetitions() -> None:
    single = [point("a", 50), point("b", 60)]
    assert noise_band(single, single) is None
    repeated = [point("a", 40, 0), point("a", 60, 1), point("b", 60, 0), point("b", 60, 1)]
    band = noise_band(single, repeated)  # the base run borrows the head's variance (100)
    assert band is not None and band["score_sd_base"] == band["score_sd_head"] == 10
    assert band["case_band"] == pytest.approx(1.959964 * math.sqrt(100 / 1 + 100 / 2), abs=1e-4)
    errored = [point("a", None, status="error")]
    assert noise_band(errored, repeated) is None  # nothing paired


def test_verdicts() -> None:
    base = [point(f"c{i}", 100) for i in range(12)]
    worse = [point(f"c{i}", 0 if i < 10 else 100) for i in range(12)]
    assert verdict(compare_runs(base, worse)) == SIGNIFICANT_REGRESSION
    assert verdict(compare_runs(worse, base)) == SIGNIFICANT_IMPROVEMENT
    assert verdict(compare_runs(worse, base, alpha=0.001)) == NO_SIGNIFICANT_CHANGE
    assert verdict(compare_runs(base, base)) == NO_SIGNIFICANT_CHANGE
    stayed = unchanged_cases(aggregate_cases(base)[0], aggregate_cases(worse)[0])
    assert [c["test_case_id"] for c in stayed] == ["c10", "c11"]


def test_default_pair() -> None:
    a, b, c = (uuid.uuid4() for _ in range(3))
    newest_first = [c, b, a]
    assert default_pair(newest_first, None, None) == (b, c)
    assert default_pair(newest_first, None, b) == (a, b)
    assert default_pair(newest_first, a, None) == (a, c)
    assert default_pair(newest_first, None, a) == (None, a)
    assert default_pair([c], None, None) == (None, c)
    assert default_pair([], None, None) == (None, None)
    other = uuid.uuid4()
    assert default_pair(newest_first, None, other) == (None, other)
