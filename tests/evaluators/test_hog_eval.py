"""run_hog_eval: globals, reasoning and every outcome of the evaluation runtime."""

from __future__ import annotations

import json
from typing import Any

import pytest

import assay.evaluators.hog_eval as runtime_module
import assay.hog as hog
from assay.evaluators.hog_eval import build_globals, run_hog_eval, run_hog_eval_async
from assay.hog.compiler import compile_program

GENERATION = {
    "uuid": "0190-uuid",
    "event": "$ai_generation",
    "distinct_id": "user-1",
    "properties": {
        "$ai_input": [{"role": "user", "content": "Hi"}],
        "$ai_output_choices": [{"role": "assistant", "content": "Hello there"}],
        "$ai_model": "gpt-x",
    },
}


def evaluate(source: str, event: dict[str, Any] | None = None, allows_na: bool = False, **kw: Any) -> dict[str, Any]:
    return run_hog_eval(compile_program(source), event or GENERATION, allows_na, **kw)


def test_globals_follow_the_runtime_contract() -> None:
    g = build_globals(GENERATION)
    assert g["input"] == json.dumps(GENERATION["properties"]["$ai_input"])
    assert g["output"] == json.dumps(GENERATION["properties"]["$ai_output_choices"])
    assert g["properties"]["$ai_model"] == "gpt-x"
    assert g["event"] == {"uuid": "0190-uuid", "event": "$ai_generation", "distinct_id": "user-1"}


def test_output_falls_back_and_other_events_use_state_properties() -> None:
    g = build_globals({"event": "$ai_generation", "properties": {"$ai_output": "plain"}})
    assert (g["input"], g["output"]) == ("", "plain")
    g = build_globals({"event": "$ai_trace", "properties": {"$ai_input_state": {"q": 1}, "$ai_output_state": "done"}})
    assert (g["input"], g["output"]) == ('{"q": 1}', "done")
    g = build_globals({"event": "$ai_span", "properties": json.dumps({"$ai_output_state": "from text"})})
    assert g["output"] == "from text"


def test_pass_with_reasoning_from_print() -> None:
    source = """
    let messages := jsonParse(output)
    let last := messages[-1].content
    print('model:', properties.$ai_model)
    print('reply:', last)
    return last like '%Hello%' and event.distinct_id = 'user-1'
    """
    assert evaluate(source) == {"verdict": True, "reasoning": "model: gpt-x\nreply: Hello there", "error": None}


def test_fail_and_applicable_flag_with_na_enabled() -> None:
    assert evaluate("return false") == {"verdict": False, "reasoning": "", "error": None}
    assert evaluate("return true", allows_na=True) == {
        "verdict": True,
        "reasoning": "",
        "error": None,
        "applicable": True,
    }


def test_null_is_not_applicable_when_na_is_enabled() -> None:
    assert evaluate("print('skip')\nreturn null", allows_na=True) == {
        "verdict": None,
        "applicable": False,
        "reasoning": "skip",
        "error": None,
    }


@pytest.mark.parametrize(
    ("source", "allows_na", "error"),
    [
        ("return null", False, "Must return boolean, got NoneType: None"),
        ("return 42", False, "Must return boolean, got int: 42"),
        ("return 42", True, "Must return boolean (or null if N/A is enabled), got int: 42"),
        ("return 'yes'", False, "Must return boolean, got str: yes"),
        ("return {'a': 1}", False, "Must return boolean, got dict: {'a': 1}"),
        ("return [1, 2]", False, "Must return boolean, got list: [1, 2]"),
        ("return 1.5", False, "Must return boolean, got float: 1.5"),
    ],
)
def test_non_boolean_results(source: str, allows_na: bool, error: str) -> None:
    outcome = evaluate(f"print('r')\n{source}", allows_na=allows_na)
    assert outcome == {"verdict": None, "reasoning": "r", "error": error}


def test_timeout_outcome() -> None:
    assert evaluate("while (true) {}", timeout=0.2) == {
        "verdict": None,
        "reasoning": "",
        "error": "Execution timed out (5s limit exceeded)",
    }


def test_memory_outcome() -> None:
    assert evaluate("let s := 'x'\nwhile (true) { s := concat(s, s) }") == {
        "verdict": None,
        "reasoning": "",
        "error": "Memory limit exceeded",
    }


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("throw Error('bad output')", "Runtime error: Error('bad output')"),
        ("return nope", "Runtime error: Global variable not found: nope"),
        ("return fetch('https://example.com')", "Runtime error: fetch() is not available in Assay evaluations"),
        (
            "postHogCapture({'event': 'x'})\nreturn true",
            "Runtime error: postHogCapture() is not available in Assay evaluations",
        ),
    ],
)
def test_runtime_error_outcomes(source: str, error: str) -> None:
    assert evaluate(source) == {"verdict": None, "reasoning": "", "error": error}


def test_unexpected_errors_are_reported_generically(monkeypatch: pytest.MonkeyPatch) -> None:
    import assay.evaluators.hog_eval as runtime

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("internal")

    monkeypatch.setattr(runtime, "execute_bytecode", explode)
    assert evaluate("return true") == {"verdict": None, "reasoning": "", "error": "Unexpected error during evaluation"}


async def test_async_wrapper_runs_off_the_event_loop() -> None:
    outcome = await run_hog_eval_async(compile_program("return output != ''"), GENERATION, False)
    assert outcome["verdict"] is True


def test_public_api_exports() -> None:
    assert set(hog.__all__) >= {"execute_bytecode", "compile_program", "compile_property_filters"}
    assert "run_hog_eval" in runtime_module.__all__
    assert hog.compile_program is compile_program
    assert callable(hog.compile_property_filters)
