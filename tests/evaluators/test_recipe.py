"""Recipes: weighting verdicts into one case score."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from assay.domain.outcomes import Verdict
from assay.domain.runs import DEFAULT_PASS_THRESHOLD
from assay.evaluators.recipe import (
    RecipeItem,
    RecipeSpec,
    combine,
    default_recipe_items,
    describe_error,
    reads_expected_tool_calls,
)


def v(name: str, status: str, score: float | None = None, reason: str = "") -> Verdict:
    if score is None and status in ("passed", "failed"):
        score = 1.0 if status == "passed" else 0.0
    return Verdict(
        evaluator=name,
        status=status,  # type: ignore[arg-type]
        score=score,
        reason=reason or f"{name} said {status}",
        passed={"passed": True, "failed": False}.get(status),
    )


def spec(*weights: float, threshold: float = 70, required: tuple[int, ...] = ()) -> RecipeSpec:
    return RecipeSpec(
        items=[RecipeItem(evaluator=f"ev{i}", weight=w, required=i in required) for i, w in enumerate(weights)],
        pass_threshold=threshold,
    )


def test_validation() -> None:
    with pytest.raises(ValidationError, match="at least 1 item"):
        RecipeSpec(items=[])
    with pytest.raises(ValidationError, match="greater than 0"):
        RecipeItem(evaluator="x", weight=0)
    with pytest.raises(ValidationError, match="greater than 0"):
        RecipeItem(evaluator="x", weight=-1)
    with pytest.raises(ValidationError, match="finite"):
        RecipeItem(evaluator="x", weight=float("inf"))
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        RecipeSpec(items=[RecipeItem(evaluator="x")], pass_threshold=101)
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        RecipeSpec(items=[RecipeItem(evaluator="x")], pass_threshold=-1)
    with pytest.raises(ValidationError, match="must not be empty"):
        RecipeItem(evaluator="  ")
    with pytest.raises(ValidationError, match="string `type`"):
        RecipeItem(evaluator={"prompt": "x"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        RecipeItem.model_validate({"evaluator": "x", "wieght": 2})


def test_defaults() -> None:
    s = RecipeSpec(items=[RecipeItem(evaluator={"type": "equals"})])
    assert s.pass_threshold == DEFAULT_PASS_THRESHOLD == 70
    assert s.items[0].weight == 1 and s.items[0].required is False


def test_weighted_mean() -> None:
    r = combine(spec(3, 1), [v("a", "passed", 1.0), v("b", "failed", 0.0)])
    assert r.score == 75.0 and r.status == "passed"
    assert r.reason.splitlines()[0] == "Score 75 meets the pass threshold 70."
    assert "a: a said passed" in r.reason and "b: b said failed" in r.reason


def test_below_threshold_lists_failures_only() -> None:
    r = combine(spec(1, 1, threshold=80), [v("judge", "passed", 1.0), v("regex", "failed", 0.2, "no match")])
    assert r.score == 60.0 and r.status == "failed"
    assert r.reason == "Score 60 is below the pass threshold 80.\nregex: no match"


def test_threshold_is_inclusive_and_rounding() -> None:
    r = combine(spec(1, 1, 1, threshold=66.67), [v("a", "passed"), v("b", "passed"), v("c", "failed")])
    assert r.score == 66.67 and r.status == "passed"


def test_not_applicable_excluded_from_weights() -> None:
    r = combine(spec(1, 5), [v("a", "passed", 0.8), v("b", "not_applicable", None, "no latency")])
    assert r.score == 80.0 and r.status == "passed"
    assert r.details["applicable_weight"] == 1
    assert [e["counted"] for e in r.details["evaluators"]] == [True, False]


def test_all_not_applicable_passes_without_score() -> None:
    r = combine(spec(1, 1), [v("a", "not_applicable", None, "n/a1"), v("b", "not_applicable", None, "n/a2")])
    assert (r.score, r.status) == (None, "passed")
    assert r.reason.splitlines() == ["No evaluator applied to this case.", "a: n/a1", "b: n/a2"]


def test_required_failure_fails_whatever_the_score() -> None:
    verdicts = [v("judge", "passed"), v("judge2", "passed"), v("schema", "failed", 0.0, "not JSON")]
    assert combine(spec(10, 10, 1), verdicts).status == "passed"
    r = combine(spec(10, 10, 1, required=(2,)), verdicts)
    assert r.status == "failed" and r.score == pytest.approx(95.24)
    assert r.reason == "Required evaluator failed (schema); score 95.24.\nschema: not JSON"


def test_required_not_applicable_does_not_fail() -> None:
    r = combine(spec(1, 1, required=(1,)), [v("a", "passed"), v("b", "not_applicable", None)])
    assert r.status == "passed" and r.score == 100


def test_an_error_leaves_the_case_without_a_score_and_says_why() -> None:
    err = Verdict(evaluator="judge", status="error", score=None, reason="provider timed out", error="timeout")
    r = combine(spec(1, 1), [v("a", "passed", 1.0), err])
    assert r.status == "error" and r.score is None  # never a 100 that reads as a pass
    assert r.details["partial_score"] == 100.0
    assert r.reason == (
        "1 evaluator failed to run (judge): the case has no score. The evaluators that ran scored 100.\n"
        "judge: provider timed out (timeout)"
    )
    r = combine(spec(1), [err])
    assert r.status == "error" and r.score is None and r.details["partial_score"] is None
    assert r.reason == "1 evaluator failed to run (judge): the case has no score.\njudge: provider timed out (timeout)"


def test_describe_error_names_evaluator_message_and_code() -> None:
    def err(error: str | None, reason: str) -> Verdict:
        return Verdict(evaluator="e", status="error", score=None, reason=reason, error=error)

    assert describe_error(err("parse_error", "The judge's answer is invalid")) == (
        "e: The judge's answer is invalid (parse_error)"
    )
    assert describe_error(err("parse_error", "")) == "e: parse_error"
    assert describe_error(err("Runtime error: boom", "printed")) == "e: Runtime error: boom (output: printed)"
    assert describe_error(err("no judge model is configured", "")) == "e: no judge model is configured"
    assert describe_error(err(None, "")) == "e: failed to run"


def test_which_evaluators_read_expected_tool_calls() -> None:
    assert reads_expected_tool_calls({"type": "tool_call_match"})
    assert not reads_expected_tool_calls({"type": "tool_call_match", "expected": [{"name": "x"}]})
    assert reads_expected_tool_calls({"type": "hog", "source": "return length(expected_tool_calls) > 0"})
    assert not reads_expected_tool_calls({"type": "hog", "source": "return true"})
    assert reads_expected_tool_calls({"type": "llm_judge", "prompt": "Wanted: {{ expected_tool_calls }}"})
    assert not reads_expected_tool_calls({"type": "llm_judge", "prompt": None})
    assert not reads_expected_tool_calls({"type": "contains", "value": "expected_tool_calls"})


def test_accepts_item_lists_and_dicts() -> None:
    items = [{"evaluator": "a", "weight": 1}, {"evaluator": {"type": "equals"}, "weight": 3}]
    assert combine(items, [v("a", "failed"), v("b", "passed")]).score == 75
    assert combine({"items": items, "pass_threshold": 80}, [v("a", "failed"), v("b", "passed")]).status == "failed"


def test_verdict_count_must_match() -> None:
    with pytest.raises(ValueError, match="expected 2 verdicts"):
        combine(spec(1, 1), [v("a", "passed")])


def test_scores_are_clamped() -> None:
    assert combine(spec(1), [v("a", "passed", 1.7)]).score == 100
    assert combine(spec(1), [v("a", "failed", None)]).score == 0


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.01, max_value=100),
            st.sampled_from(["passed", "failed", "not_applicable"]),
            st.floats(min_value=0, max_value=1),
        ),
        min_size=1,
        max_size=8,
    ),
    st.floats(min_value=0, max_value=100),
)
def test_score_in_range_and_status_consistent(rows: list[tuple[float, str, float]], threshold: float) -> None:
    s = RecipeSpec(
        items=[RecipeItem(evaluator=f"e{i}", weight=w) for i, (w, _, _) in enumerate(rows)], pass_threshold=threshold
    )
    r = combine(s, [v(f"e{i}", st_, sc if st_ != "not_applicable" else None) for i, (_, st_, sc) in enumerate(rows)])
    if all(st_ == "not_applicable" for _, st_, _ in rows):
        assert r.score is None and r.status == "passed"
    else:
        assert r.score is not None and 0 <= r.score <= 100
        assert r.status == ("passed" if r.score >= threshold else "failed")
    assert r.reason


def test_default_recipe_items() -> None:
    assert default_recipe_items(None, None) == []
    assert default_recipe_items("  ", []) == []
    items = default_recipe_items("Answers politely", [{"name": "search"}])
    assert [i.evaluator["type"] for i in items] == ["llm_judge", "tool_call_match"]  # type: ignore[index]
    assert items[0].evaluator == {"type": "llm_judge", "prompt": None, "output_type": "boolean"}
    assert all(i.weight == 1 and not i.required for i in items)
    only_tools = default_recipe_items(None, [{"name": "search"}])
    assert len(only_tools) == 1 and only_tools[0].evaluator["type"] == "tool_call_match"  # type: ignore[index]
    RecipeSpec(items=items)  # valid as a spec
