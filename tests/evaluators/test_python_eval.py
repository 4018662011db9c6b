"""Python evaluators: every return shape, sync and async functions, timeouts, exceptions, the opt-in."""

from __future__ import annotations

import asyncio
import math
import time
from fractions import Fraction
from typing import Any

import pytest

from assay.domain.outcomes import CaseOutcome, ToolCall, Verdict
from assay.evaluators.python_eval import NOT_ENABLED, PythonCase, PythonEvaluator
from assay.evaluators.python_verdict import verdict_from_return
from assay.evaluators.recipe_items import InlineError, validate_inline
from assay.trusted_code import enable_trusted_code, register_callable


@pytest.fixture
def trusted():  # noqa: ANN201
    enable_trusted_code()
    yield
    enable_trusted_code(False)


OUTCOME = CaseOutcome(
    input="Where is A1?",
    output="It shipped.",
    expected="Gives the status",
    tool_calls=[ToolCall("lookup", {"id": "A1"})],
)


@pytest.mark.parametrize(
    ("value", "scale", "status", "score", "reason"),
    [
        (True, "unit", "passed", 1.0, ""),
        (False, "unit", "failed", 0.0, ""),
        (0.9, "unit", "passed", 0.9, ""),
        (0.2, "unit", "failed", 0.2, ""),
        (1, "unit", "passed", 1.0, ""),
        (85, "percent", "passed", 0.85, ""),
        (Fraction(3, 4), "unit", "passed", 0.75, ""),  # any numbers.Real (NumPy scalars too)
        (40.0, "percent", "failed", 0.4, ""),
        ((0.8, "close enough"), "unit", "passed", 0.8, "close enough"),
        ((False, "wrong tool"), "unit", "failed", 0.0, "wrong tool"),
        ((75, "ok"), "percent", "passed", 0.75, "ok"),
        ({"score": 0.5, "reason": "half"}, "unit", "failed", 0.5, "half"),
        ({"passed": True, "reason": "fine"}, "unit", "passed", 1.0, "fine"),
        ({"score": 0.3, "passed": True}, "unit", "passed", 0.3, ""),
        ({"status": "not_applicable", "reason": "no tools"}, "unit", "not_applicable", None, "no tools"),
        (Verdict("other", "failed", 0.1, "own verdict"), "unit", "failed", 0.1, "own verdict"),
    ],
)
def test_return_shapes(value: Any, scale: Any, status: str, score: float | None, reason: str) -> None:
    verdict = verdict_from_return(value, scale=scale, name="mine")
    assert (verdict.evaluator, verdict.status, verdict.reason) == ("mine", status, reason)
    assert verdict.score == pytest.approx(score) if score is not None else verdict.score is None
    assert verdict.error is None


@pytest.mark.parametrize(
    ("value", "scale", "message"),
    [
        (None, "unit", "got NoneType"),
        ("yes", "unit", "got str"),
        ([1], "unit", "got list"),
        (1.5, "unit", "outside 0-1 (scale unit)"),
        (85, "unit", "declare scale: percent"),
        (101, "percent", "outside 0-100"),
        (-0.1, "unit", "outside 0-1"),
        (math.nan, "unit", "outside 0-1"),
        ((0.5,), "unit", "(score, reason: str), got (float)"),
        ((0.5, 3), "unit", "got (float, int)"),
        (("a", "b"), "unit", "must be a bool or a number, got str"),
        ({"score": 0.5, "why": "x"}, "unit", "unknown keys in the returned dict: why"),
        ({"reason": "x"}, "unit", "needs 'score' or 'passed'"),
        ({"passed": "yes"}, "unit", "'passed' must be a bool"),
        ({"status": "passed", "score": 1}, "unit", "'status' may only be 'not_applicable'"),
        ({"score": 1, "reason": 2}, "unit", "'reason' must be a string"),
    ],
)
def test_other_values_are_errors_naming_the_type(value: Any, scale: Any, message: str) -> None:
    verdict = verdict_from_return(value, scale=scale)
    assert verdict.status == "error" and verdict.score is None
    assert message in (verdict.error or "")


def _two(case: PythonCase, outcome: CaseOutcome) -> tuple[float, str]:
    assert case.input == "Where is A1?" and case.expected_behavior == "Gives the status"
    return (1.0 if outcome.tool_calls[0].name == "lookup" else 0.0), f"answered {outcome.output!r}"


async def _async_one(outcome: CaseOutcome) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"score": 60, "reason": "async"}


def _slow(outcome: CaseOutcome) -> bool:
    time.sleep(0.5)
    return True


async def _async_slow(outcome: CaseOutcome) -> bool:
    await asyncio.sleep(5)
    return True


def _boom(outcome: CaseOutcome) -> bool:
    raise KeyError("no such field")


def _evaluator(fn: Any, **config: Any) -> PythonEvaluator:
    return PythonEvaluator(validate_inline({"type": "python", "function": register_callable(fn), **config}))


async def test_sync_two_argument_function(trusted: None) -> None:
    verdict = await _evaluator(_two, name="tool").evaluate(OUTCOME)
    assert (verdict.evaluator, verdict.status, verdict.score) == ("tool", "passed", 1.0)
    assert verdict.reason == "answered 'It shipped.'"


async def test_async_one_argument_function_on_percent_scale(trusted: None) -> None:
    verdict = await _evaluator(_async_one, scale="percent").evaluate(OUTCOME)
    assert (verdict.status, verdict.score, verdict.reason) == ("failed", 0.6, "async")


@pytest.mark.parametrize("fn", [_slow, _async_slow])
async def test_timeout_is_an_error(trusted: None, fn: Any) -> None:
    started = time.monotonic()
    verdict = await _evaluator(fn, timeout_s=0.1).evaluate(OUTCOME)
    assert time.monotonic() - started < 0.45
    assert verdict.status == "error" and "did not return within 0.1s" in (verdict.error or "")


async def test_exception_is_an_error_with_its_message(trusted: None) -> None:
    verdict = await _evaluator(_boom).evaluate(OUTCOME)
    assert verdict.status == "error" and verdict.error == "KeyError: 'no such field'"
    assert verdict.evaluator == "_boom"


async def test_nothing_runs_without_the_opt_in() -> None:
    name = register_callable(_boom)
    verdict = await PythonEvaluator({"type": "python", "function": name}).evaluate(OUTCOME)
    assert verdict.status == "error" and verdict.error == NOT_ENABLED


def test_unknown_function_fails_when_the_run_prepares(trusted: None) -> None:
    with pytest.raises(ValueError, match="cannot load no_such_mod_q:f"):
        PythonEvaluator({"type": "python", "function": "no_such_mod_q:f"})


def test_config_validation() -> None:
    with pytest.raises(InlineError, match="package.module:function"):
        validate_inline({"type": "python", "function": "nocolon"})
    with pytest.raises(InlineError, match="Input should be 'unit' or 'percent'"):
        validate_inline({"type": "python", "function": "a:b", "scale": "ten"})
    with pytest.raises(InlineError, match="Extra inputs"):
        validate_inline({"type": "python", "function": "a:b", "source": "x"})
    assert validate_inline({"type": "python", "function": " a.b:c "}) == {
        "type": "python",
        "function": "a.b:c",
        "name": None,
        "scale": "unit",
        "timeout_s": 30.0,
    }


async def test_api_refuses_python_evaluators(client, env_a) -> None:  # noqa: ANN001
    item = {"evaluator": {"type": "python", "function": "os:system"}}
    r = await client.post("/v1/recipes", json={"name": "r", "items": [item]}, headers=env_a.headers)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "items", 0, "evaluator", "type"]
    assert "only available to `assay run`" in r.text
    ok = {"name": "r", "items": [{"evaluator": {"type": "contains", "value": "x"}}]}
    created = (await client.post("/v1/recipes", json=ok, headers=env_a.headers)).json()
    r = await client.patch(f"/v1/recipes/{created['id']}", json={"items": [item]}, headers=env_a.headers)
    assert r.status_code == 422 and "python" in r.text
