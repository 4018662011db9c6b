"""Run by the evals tests as `pytest -p assay.pytest` in a folder of its own."""

from eval_checks import agent, is_echo

from assay.evals import Case, EvalSuite, check, python

greetings = EvalSuite(
    [Case("hello there", name="greet"), Case("weather today?", name="forecast"), Case("hello", name="greet")],
    agent=agent,
    evaluators=[python(is_echo), check("contains", value="e")],
    name="greetings",
)


def test_ordinary_tests_still_run() -> None:
    assert agent("x") == "echo: x"
