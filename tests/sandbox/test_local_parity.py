"""The same evaluator gives the same verdict in the sandbox and in-process, and return values mean one thing."""

from __future__ import annotations

from typing import Any

import pytest

from assay.sandbox.coerce import BadReturnValue, coerce_result
from assay.sandbox.pool import SandboxPool

TOKEN_OVERLAP = """
import re

def evaluate(input, output, expected="", **kw):
    words = set(re.findall(r"\\w+", output.lower()))
    wanted = set(re.findall(r"\\w+", expected.lower()))
    if not wanted:
        return None
    overlap = len(words & wanted) / len(wanted)
    return overlap, f"{len(words & wanted)} of {len(wanted)} expected words"
"""

EVALUATORS = {
    "token overlap": TOKEN_OVERLAP,
    "bool": "def evaluate(input, output, **kw):\n    return 'refund' in output\n",
    "percent": "def evaluate(input, output, **kw):\n    return min(100, len(output))\n",
    "dict": (
        "import json\n"
        "def evaluate(input, output, **kw):\n"
        "    data = json.loads(output) if output.startswith('{') else {}\n"
        "    return {'passed': 'answer' in data, 'reason': ','.join(sorted(data))}\n"
    ),
    "only named arguments": "def evaluate(output):\n    return len(output) > 3\n",
    "statistics and dates": (
        "import statistics, datetime\n"
        "def evaluate(input, output, **kw):\n"
        "    n = [len(w) for w in output.split()] or [0]\n"
        "    d = datetime.date(2026, 1, 1) + datetime.timedelta(days=len(output))\n"
        "    return statistics.mean(n) / 100, d.isoformat()\n"
    ),
}

CASES = [
    {"input": "q", "output": "You get a refund today", "expected": "refund today"},
    {"input": "q", "output": '{"answer": 42, "why": "x"}', "expected": ""},
    {"input": "q", "output": "no", "expected": "something else entirely"},
]


def _local(source: str, kwargs: dict[str, Any], scale: float) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(source, "<evaluator>", "exec"), namespace)
    function = namespace["evaluate"]
    code = function.__code__
    if not code.co_flags & 0x08:
        kwargs = {k: v for k, v in kwargs.items() if k in code.co_varnames[: code.co_argcount]}
    return coerce_result(function(**kwargs), scale=scale)


@pytest.mark.parametrize("name", list(EVALUATORS))
def test_sandbox_equals_local(pool: SandboxPool, name: str) -> None:
    source = EVALUATORS[name]
    scale = 100 if name == "percent" else 1
    for case in CASES:
        expected = _local(source, case, scale)
        got = pool.submit("parity", source, case, scale=scale).result(timeout=30)
        assert got.ok, got
        assert {"passed": got.passed, "score": got.score, "applicable": got.applicable, "reason": got.reason} == (
            expected
        )


def test_errors_name_the_exception(pool: SandboxPool) -> None:
    got = pool.submit("parity", "def evaluate(**kw):\n    return 1 / 0\n", {}).result(timeout=30)
    assert (got.ok, got.kind, got.error) == (False, "exception", "ZeroDivisionError: division by zero")
    got = pool.submit("parity", "def evaluate(**kw):\n    return 'yes'\n", {}).result(timeout=30)
    assert got.kind == "bad_return" and "returned str" in (got.error or "")
    got = pool.submit("parity", "def evaluate(:\n", {}).result(timeout=30)
    assert got.kind == "load_error" and "SyntaxError" in (got.error or "")
    got = pool.submit("parity", "x = 1\n", {}).result(timeout=30)
    assert got.kind == "load_error" and "defines no function evaluate" in (got.error or "")


def test_arguments_json_cannot_carry_fail_alone(pool: SandboxPool) -> None:
    source = "def evaluate(output, **kw):\n    return output == 'ok'\n"
    futures = [pool.submit("parity", source, {"output": "ok", "n": n}) for n in (1, 1 << 70, 2)]
    first, bad, last = (f.result(timeout=30) for f in futures)
    assert first.ok and first.passed and last.ok and last.passed
    assert bad.kind == "bad_input" and "cannot be sent" in (bad.error or "")


def test_printed_lines_come_back(pool: SandboxPool) -> None:
    got = pool.submit("parity", "def evaluate(**kw):\n    print('a', 1)\n    print('b' * 10000)\n    return True\n", {})
    result = got.result(timeout=30)
    assert result.ok and result.logs.startswith("a 1\nbbb") and len(result.logs) == 4096


@pytest.mark.parametrize(
    ("value", "verdict"),
    [
        (True, {"passed": True, "score": 1.0, "applicable": True, "reason": ""}),
        (None, {"passed": None, "score": None, "applicable": False, "reason": ""}),
        (0.25, {"passed": False, "score": 0.25, "applicable": True, "reason": ""}),
        ((0.5, "half"), {"passed": True, "score": 0.5, "applicable": True, "reason": "half"}),
        (
            {"score": 0.9, "passed": False, "reason": "r"},
            {"passed": False, "score": 0.9, "applicable": True, "reason": "r"},
        ),
        ({"applicable": False, "reason": "n/a"}, {"passed": None, "score": None, "applicable": False, "reason": "n/a"}),
    ],
)
def test_return_values(value: Any, verdict: dict[str, Any]) -> None:
    assert coerce_result(value) == verdict


@pytest.mark.parametrize("value", ["yes", 1.5, float("nan"), (1, 2, 3), {"score": 2}, {"other": 1}, {"reason": "x"}])
def test_bad_return_values(value: Any) -> None:
    with pytest.raises(BadReturnValue):
        coerce_result(value)
