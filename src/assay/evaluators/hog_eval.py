"""The two Hog evaluation adapters: LLM analytics (one event) and recipe items (one case of a run).

LLM analytics: run an evaluator's bytecode against one event and judge the result.

Implements ``run_hog_eval`` as PostHog's LLM-analytics Hog evaluations do (behaviour reference
§4.4): globals ``input``/``output`` (strings), ``properties`` and ``event``; printed lines become
the reasoning; the program must return a boolean (or null when N/A is allowed).

Recipe items: `HogEvaluator`, compiled once per run and applied to every case.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

from assay.domain.messages import extract_event_io, hog_io_strings
from assay.domain.outcomes import CaseOutcome, Verdict
from assay.evaluators.case_evaluator import CaseEvaluator
from assay.hog.errors import HogMemoryLimitError, HogRuntimeError, HogTimeoutError
from assay.hog.vm import DEFAULT_TIMEOUT, execute_bytecode

logger = logging.getLogger(__name__)

TIMEOUT_ERROR = "Execution timed out (5s limit exceeded)"
MEMORY_ERROR = "Memory limit exceeded"
UNEXPECTED_ERROR = "Unexpected error during evaluation"
NA_HINT = " (or null if N/A is enabled)"


def _properties(event: Mapping[str, Any]) -> dict[str, Any]:
    props = event.get("properties")
    if isinstance(props, str):
        try:
            props = json.loads(props)
        except ValueError:
            props = None
    return dict(props) if isinstance(props, Mapping) else {}


def build_globals(event: Mapping[str, Any]) -> dict[str, Any]:
    """The VM globals for an event: ``input``, ``output``, ``properties`` and ``event``."""
    properties = _properties(event)
    name = event.get("event")
    input_raw, output_raw = extract_event_io(str(name) if name is not None else "", properties)
    input_text, output_text = hog_io_strings(input_raw, output_raw)
    uuid = event.get("uuid")
    distinct_id = event.get("distinct_id")
    return {
        "input": input_text,
        "output": output_text,
        "properties": properties,
        "event": {
            "uuid": str(uuid) if uuid is not None else None,
            "event": name,
            "distinct_id": str(distinct_id) if distinct_id is not None else None,
        },
    }


def _failure(message: str) -> dict[str, Any]:
    return {"verdict": None, "reasoning": "", "error": message}


def run_hog_eval(
    bytecode: list[Any], event: Mapping[str, Any], allows_na: bool, *, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, Any]:
    """Run a Hog evaluator on one event; returns ``{"verdict", "reasoning", "error"}`` (+ ``"applicable"``).

    ``event`` has ``uuid``, ``event``, ``properties`` (dict or JSON text) and ``distinct_id``.
    """
    try:
        response = execute_bytecode(bytecode, build_globals(event), timeout=timeout)
    except HogTimeoutError:
        return _failure(TIMEOUT_ERROR)
    except HogMemoryLimitError:
        return _failure(MEMORY_ERROR)
    except HogRuntimeError as e:
        return _failure(f"Runtime error: {e}")
    except Exception:
        logger.exception("Unexpected error while running a Hog evaluation")
        return _failure(UNEXPECTED_ERROR)

    result = response.result
    reasoning = "\n".join(response.stdout)
    if result is None and allows_na:
        return {"verdict": None, "applicable": False, "reasoning": reasoning, "error": None}
    if not isinstance(result, bool):
        hint = NA_HINT if allows_na else ""
        return {
            "verdict": None,
            "reasoning": reasoning,
            "error": f"Must return boolean{hint}, got {type(result).__name__}: {result}",
        }
    outcome: dict[str, Any] = {"verdict": result, "reasoning": reasoning, "error": None}
    if allows_na:
        outcome["applicable"] = True
    return outcome


async def run_hog_eval_async(
    bytecode: list[Any], event: Mapping[str, Any], allows_na: bool, *, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, Any]:
    """:func:`run_hog_eval` in a worker thread, so the event loop keeps serving other work."""
    return await asyncio.to_thread(run_hog_eval, bytecode, event, allows_na, timeout=timeout)


MISSING_BYTECODE_ERROR = "Missing bytecode in evaluation_config"


def run_hog_evaluation(
    evaluation: Mapping[str, Any], event: Mapping[str, Any], *, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, Any]:
    """Run a stored `hog` evaluation (its API shape or row fields) on one event.

    Uses the compiled `evaluation_config.bytecode` and `output_config.allows_na`; the outcome is that
    of :func:`run_hog_eval`.
    """
    bytecode = (evaluation.get("evaluation_config") or {}).get("bytecode")
    if not bytecode:
        return _failure(MISSING_BYTECODE_ERROR)
    allows_na = bool((evaluation.get("output_config") or {}).get("allows_na", False))
    return run_hog_eval(bytecode, event, allows_na, timeout=timeout)


__all__ = ["build_globals", "run_hog_eval", "run_hog_eval_async", "run_hog_evaluation"]


class HogEvaluator(CaseEvaluator):
    """Hog code over the case: globals `input`, `output`, `expected`, `tool_calls`, `expected_tool_calls`.

    It returns true/false (pass/fail), null (not applicable) or a number 0–100 (a score).
    """

    def __init__(self, config: dict[str, Any]) -> None:
        from assay.hog import compile_program

        self.name = str(config.get("name") or "hog")
        self.bytecode = config.get("bytecode") or compile_program(str(config.get("source") or ""))
        self.allows_na = bool(config.get("allows_na", True))

    async def evaluate(self, outcome: CaseOutcome) -> Verdict:
        return await asyncio.to_thread(self._run, outcome)

    def _run(self, outcome: CaseOutcome) -> Verdict:
        from assay.hog import HogError, execute_bytecode

        globals_ = {
            "input": outcome.input,
            "output": outcome.output,
            "expected": outcome.expected or "",
            "tool_calls": [c.to_dict() for c in outcome.tool_calls],
            "expected_tool_calls": [c.to_dict() for c in outcome.expected_tool_calls or []],
            "latency_ms": outcome.latency_ms,
            "tokens": outcome.tokens,
            "metadata": outcome.metadata,
        }
        try:
            response = execute_bytecode(self.bytecode, globals_)
        except HogError as exc:
            return Verdict(self.name, "error", None, "", error=f"Runtime error: {exc}")
        reason = "\n".join(response.stdout)
        result = response.result
        if isinstance(result, bool):
            return Verdict(self.name, "passed" if result else "failed", 1.0 if result else 0.0, reason, passed=result)
        if result is None and self.allows_na:
            return Verdict(self.name, "not_applicable", None, reason)
        if isinstance(result, int | float) and 0 <= result <= 100:
            score = float(result) / 100
            return Verdict(self.name, "passed" if score >= 0.7 else "failed", score, reason, passed=score >= 0.7)
        return Verdict(
            self.name,
            "error",
            None,
            reason,
            error=f"Must return boolean, null or a number 0-100, got {type(result).__name__}: {result}",
        )
