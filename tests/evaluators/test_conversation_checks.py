"""Conversation evaluators: trajectory order modes and argument matching, per-turn checks, conversation metrics,
tool-mock matching, the judge's `{{transcript}}` and rubrics, validation of the configs."""

from __future__ import annotations

import pytest

from assay.domain.conversations import ToolMock, mock_result
from assay.domain.outcomes import CaseOutcome, ToolCall
from assay.evaluators.conversation_checks import parse_conversation_check, run_conversation_check
from assay.evaluators.recipe_items import InlineError, validate_inline
from assay.evaluators.rubrics import RUBRICS
from assay.evaluators.suite_judge import render_prompt

LOOKUP = {"name": "lookup_order", "arguments": {"order_id": "A1"}}
REFUND = {"name": "refund", "arguments": {"order_id": "A1", "amount": 5}}


def outcome(*calls: tuple[str, dict]) -> CaseOutcome:
    return CaseOutcome(input="hi", output="done", tool_calls=[ToolCall(n, a) for n, a in calls])


def verdict(config: dict, case: CaseOutcome) -> str:
    return run_conversation_check(parse_conversation_check(config), case).status


LOOK = ("lookup_order", {"order_id": "A1", "verbose": True})
REF = ("refund", {"order_id": "A1", "amount": 5})
PING = ("ping", {})


@pytest.mark.parametrize(
    ("order", "made", "status"),
    [
        ("exact", [LOOK, REF], "passed"),
        ("exact", [REF, LOOK], "failed"),
        ("exact", [LOOK, PING, REF], "failed"),
        ("exact", [LOOK], "failed"),
        ("in_order", [LOOK, PING, REF], "passed"),
        ("in_order", [REF, LOOK], "failed"),
        ("in_order", [LOOK], "failed"),
        ("any_order", [REF, LOOK], "passed"),
        ("any_order", [REF, PING, LOOK], "failed"),
        ("any_order", [REF], "failed"),
    ],
)
def test_trajectory_order_modes(order: str, made: list, status: str) -> None:
    config = {"type": "trajectory", "order": order, "expected": [LOOKUP, REFUND]}
    assert verdict(config, outcome(*made)) == status


def test_trajectory_arguments_extras_and_the_case_expectation() -> None:
    made = outcome(("lookup_order", {"order_id": "A1", "verbose": True}), PING)
    subset = {"type": "trajectory", "order": "any_order", "allow_extra": True, "expected": [LOOKUP]}
    assert verdict(subset, made) == "passed"
    assert verdict({**subset, "arguments": "exact"}, made) == "failed"
    wrong = {**subset, "expected": [{"name": "lookup_order", "arguments": {"order_id": "B2"}}]}
    result = run_conversation_check(parse_conversation_check(wrong), made)
    assert result.status == "failed" and "order_id" in result.reason and result.score == 0
    from_case = {"type": "trajectory", "order": "in_order"}
    assert verdict(from_case, made) == "not_applicable"
    made.expected_tool_calls = [ToolCall("lookup_order", {"order_id": "A1"})]
    assert verdict(from_case, made) == "passed"


def conversation() -> CaseOutcome:
    turns = [
        {"user": "hi", "assistant": "Hello! How can I help?", "tool_calls": [], "latency_ms": 5, "tokens": 9},
        {"user": "track A1", "assistant": "ERROR: no idea", "tool_calls": [LOOKUP], "latency_ms": 7, "tokens": 11},
        {"user": "thanks", "assistant": "You're welcome!", "tool_calls": [], "latency_ms": 3, "tokens": 4},
    ]
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello! How can I help?"}]
    metrics = {"turns": 3, "steps": 4, "tool_calls": 1, "goal_met": True, "turns_to_goal": 2, "steps_to_goal": 3}
    return CaseOutcome(
        input="hi", output="You're welcome!", turns=turns, messages=messages, goal="track A1", metrics=metrics
    )


def test_per_turn_checks_every_turn_or_the_last() -> None:
    case = conversation()
    every = {"type": "per_turn", "check": {"type": "not_contains", "value": "ERROR"}}
    result = run_conversation_check(parse_conversation_check(every), case)
    assert result.status == "failed" and result.reason.startswith("not_contains failed on turn 2")
    assert result.score == pytest.approx(2 / 3) and [t["status"] for t in result.details["turns"]][1] == "failed"
    assert verdict({**every, "turns": "last"}, case) == "passed"
    budget = {"type": "per_turn", "check": {"type": "token_budget", "max_tokens": 10}}
    assert verdict(budget, case) == "failed" and verdict({**budget, "turns": "last"}, case) == "passed"
    one_turn = CaseOutcome(input="hi", output="no ERROR here")
    assert verdict(every, one_turn) == "failed"


def test_conversation_metrics_budgets_and_goal() -> None:
    case = conversation()
    assert verdict({"type": "conversation_metrics"}, case) == "not_applicable"
    assert verdict({"type": "conversation_metrics", "max_turns": 3, "max_steps": 4}, case) == "passed"
    over = run_conversation_check(parse_conversation_check({"type": "conversation_metrics", "max_steps": 3}), case)
    assert over.status == "failed" and "4 model calls exceed the budget of 3" in over.reason
    assert over.details["steps_to_goal"] == 3
    case.metrics = {**(case.metrics or {}), "goal_met": False}
    assert verdict({"type": "conversation_metrics", "require_goal": True}, case) == "failed"


def test_tool_mocks_match_arguments_then_the_default() -> None:
    mocks = [
        ToolMock(tool="lookup_order", arguments={"order_id": "A1"}, result="A1 shipped"),
        ToolMock(tool="lookup_order", result="unknown order"),
        ToolMock(tool="refund", arguments={"amount": 5, "meta": {"ok": True}}, result={"refunded": 5}),
    ]
    assert mock_result(mocks, "lookup_order", {"order_id": "A1", "x": 1}) == (True, "A1 shipped")
    assert mock_result(mocks, "lookup_order", {"order_id": "B2"}) == (True, "unknown order")
    assert mock_result(mocks, "refund", {"amount": 5, "meta": {"ok": True, "y": 2}}) == (True, {"refunded": 5})
    assert mock_result(mocks, "refund", {"amount": 5, "meta": {"ok": 1}}) == (False, None)
    assert mock_result(mocks, "cancel", {}) == (False, None)


def test_judge_reads_the_transcript_and_rubrics() -> None:
    case = conversation()
    text = render_prompt(RUBRICS["goal_completion"], case)
    assert "track A1" in text and "user: hi\nassistant: Hello! How can I help?" in text
    single = render_prompt("{{transcript}}", CaseOutcome(input="q", output="a", tool_calls=[ToolCall("t", {"k": 1})]))
    assert single == 'user: q\n[tool_call: t({"k":1})]\nassistant: a'
    assert validate_inline({"type": "llm_judge", "rubric": "on_task"})["rubric"] == "on_task"
    with pytest.raises(InlineError, match="unknown rubric"):
        validate_inline({"type": "llm_judge", "rubric": "vibes"})


@pytest.mark.parametrize(
    "config",
    [
        {"type": "per_turn", "check": {"type": "hog", "source": "true"}},
        {"type": "per_turn", "check": {"type": "contains"}},
        {"type": "per_turn", "check": {"type": "contains", "value": "x"}, "turns": "first"},
        {"type": "trajectory", "order": "sideways"},
        {"type": "conversation_metrics", "max_turns": 0},
    ],
)
def test_bad_conversation_configs_are_refused(config: dict) -> None:
    with pytest.raises(InlineError):
        validate_inline(config)
