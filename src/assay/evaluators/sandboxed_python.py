"""The two sandboxed-Python evaluation adapters: LLM analytics (one event) and recipe items (one case of a run).

The source defines `evaluate(input, output, **kwargs)` and runs in the sandbox pool (`assay.sandbox`), in a
worker that serves only the evaluation's environment. LLM analytics passes `input`, `output` (the text the
LLM judge reads), `properties` and `event`; a recipe item passes `input`, `output`, `expected`, `tool_calls`,
`expected_tool_calls`, `latency_ms`, `tokens` and `metadata`. What `print` wrote is the reasoning when the
function returns no reason.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from assay.domain.messages import extract_event_io, extract_text_from_messages
from assay.domain.outcomes import CaseOutcome, Verdict
from assay.evaluators.case_evaluator import CaseEvaluator
from assay.evaluators.hog_eval import build_globals
from assay.sandbox.process import CallResult
from assay.sandbox.shared import shared_pool


def python_source_problem(source: str) -> str | None:
    """Why `source` cannot be a Python evaluator (a syntax error, no `evaluate`), or None.

    Only parsed here, never run: the parser is safe on any input, running belongs to the sandbox.
    """
    try:
        tree = ast.parse(source, "<evaluator>")
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return f"Python syntax error{where}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return f"Python source cannot be parsed: {type(exc).__name__}"
    defined = any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Assign) and _names_evaluate(node)
        for node in tree.body
    )
    if not defined:
        return "The source must define a function evaluate(input, output, **kwargs)"
    return None


def _names_evaluate(node: ast.stmt) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return node.name == "evaluate"
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == "evaluate" for t in node.targets)
    return False


def event_arguments(event: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of an evaluator for one event: `input` and `output` as the text the LLM judge
    reads (`role: content` lines), `properties` (the raw messages are there) and `event`."""
    arguments = build_globals(event)
    name = str(arguments["event"]["event"] or "")
    input_raw, output_raw = extract_event_io(name, arguments["properties"])
    arguments["input"] = extract_text_from_messages(input_raw)
    arguments["output"] = extract_text_from_messages(output_raw)
    return arguments


def _reasoning(result: CallResult) -> str:
    return result.reason or result.logs


async def run_python_eval(
    *,
    tenant: str,
    source: str,
    event: Mapping[str, Any],
    allows_na: bool,
    threshold: float = 0.5,
    scale: float = 1,
) -> dict[str, Any]:
    """Run a Python evaluator on one event; `{"verdict", "reasoning", "error"}` (+ `"applicable"`), as Hog's.

    `error` is set when the code failed, timed out, returned something else than a verdict, or the sandbox
    is unavailable (the message names the missing layer); `kind` then says which.
    """
    result = await shared_pool().evaluate(tenant, source, event_arguments(event), scale=scale, threshold=threshold)
    reasoning = _reasoning(result)
    if not result.ok:
        return {"verdict": None, "reasoning": result.logs, "error": result.error, "kind": result.kind}
    if not result.applicable:
        if allows_na:
            return {"verdict": None, "applicable": False, "reasoning": reasoning, "error": None}
        error = "Must return a boolean or a score, got None (N/A is not enabled)"
        return {"verdict": None, "reasoning": reasoning, "error": error, "kind": "bad_return"}
    outcome: dict[str, Any] = {"verdict": result.passed, "reasoning": reasoning, "error": None}
    if allows_na:
        outcome["applicable"] = True
    return outcome


class SandboxedPythonEvaluator(CaseEvaluator):
    """A `python` recipe item: its source runs in the sandbox, in a worker of the run's environment."""

    def __init__(self, config: dict[str, Any], *, tenant: str) -> None:
        self.name = str(config.get("name") or "python")
        self.source = str(config.get("source") or "")
        self.allows_na = bool(config.get("allows_na", True))
        self.threshold = float(config.get("threshold", 0.5))
        self.scale = float(config.get("scale", 1))
        self.tenant = tenant

    async def evaluate(self, outcome: CaseOutcome) -> Verdict:
        kwargs = {
            "input": outcome.input,
            "output": outcome.output,
            "expected": outcome.expected or "",
            "tool_calls": [c.to_dict() for c in outcome.tool_calls],
            "expected_tool_calls": [c.to_dict() for c in outcome.expected_tool_calls or []],
            "latency_ms": outcome.latency_ms,
            "tokens": outcome.tokens,
            "metadata": outcome.metadata,
        }
        result = await shared_pool().evaluate(
            self.tenant, self.source, kwargs, scale=self.scale, threshold=self.threshold
        )
        reason = _reasoning(result)
        if not result.ok:
            return Verdict(self.name, "error", None, result.logs, error=result.error, details={"kind": result.kind})
        if not result.applicable:
            if self.allows_na:
                return Verdict(self.name, "not_applicable", None, reason)
            return Verdict(
                self.name, "error", None, reason, error="returned None, but N/A is not allowed for this item"
            )
        passed = bool(result.passed)
        return Verdict(self.name, "passed" if passed else "failed", result.score, reason, passed=passed)
