"""The `python` evaluator kind: a trusted local function scores each case (`assay run`, `assay.evals` only).

Config: `{"type": "python", "function": "package.module:function", "scale": "unit" | "percent",
"timeout_s": 30, "name": …}`. The function gets `(case, outcome)` when it takes two positional arguments,
else `outcome` alone: `case` is a `PythonCase` (input, expected behaviour, expected tool calls, metadata),
`outcome` the `CaseOutcome` (the agent's `output`, `tool_calls`, `latency_ms`, `tokens`, and the case's
fields too). It may be sync (run in a worker thread) or async, and returns what
`evaluators/python_verdict.py` accepts. An exception, a timeout or a return value of the wrong shape is an
`error` verdict with the message.

As with `python` instances, nothing runs unless the process opted in (`assay.trusted_code`); the HTTP API
refuses the kind when a recipe is saved.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assay.concurrency import with_timeout
from assay.domain.outcomes import CaseOutcome, ToolCall, Verdict
from assay.evaluators.case_evaluator import CaseEvaluator
from assay.evaluators.python_verdict import error_verdict, verdict_from_return
from assay.trusted_code import (
    CallableNotFound,
    check_target,
    is_async_callable,
    load_callable,
    takes_positional,
    trusted_code_enabled,
)

DEFAULT_TIMEOUT_S = 30.0
NOT_ENABLED = "python evaluators run trusted local code: only under `assay run` or `assay.evals`, never in the server"


class InlinePython(BaseModel):
    """A local Python function as an evaluator."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["python"]
    function: str = Field(max_length=500)
    """`package.module:function` (resolved on the suite file's folder and `sys.path`)."""
    name: str | None = Field(default=None, max_length=200)
    scale: Literal["unit", "percent"] = "unit"
    """What a returned number means: a score 0–1 (`unit`) or 0–100 (`percent`)."""
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0, le=3600)

    @field_validator("function")
    @classmethod
    def _function(cls, value: str) -> str:
        return check_target(value)


@dataclass(frozen=True, slots=True)
class PythonCase:
    """The case a Python evaluator judges: what was asked and what was expected."""

    input: str
    expected_behavior: str | None = None
    expected_tool_calls: list[ToolCall] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class PythonEvaluator(CaseEvaluator):
    """A validated `python` config, its function loaded once per run."""

    def __init__(self, config: dict[str, Any]) -> None:
        spec = InlinePython.model_validate(config)
        self.name = spec.name or spec.function.rpartition(":")[2]
        self.spec = spec
        self.fn: Any = None
        if trusted_code_enabled():  # importing the module runs its code: never in the server
            try:
                self.fn = load_callable(spec.function)
            except CallableNotFound as exc:
                raise ValueError(f"python evaluator {self.name!r}: {exc}") from None
            self.two_args = takes_positional(self.fn, 2)

    async def evaluate(self, outcome: CaseOutcome) -> Verdict:
        if self.fn is None:
            return error_verdict(NOT_ENABLED, name=self.name)
        case = PythonCase(
            input=outcome.input,
            expected_behavior=outcome.expected,
            expected_tool_calls=outcome.expected_tool_calls,
            metadata=outcome.metadata,
        )
        args: tuple[Any, ...] = (case, outcome) if self.two_args else (outcome,)
        timeout = self.spec.timeout_s
        try:
            if is_async_callable(self.fn):
                value = await with_timeout(self.fn(*args), timeout)
            else:
                value = await with_timeout(asyncio.to_thread(self.fn, *args), timeout)
                if inspect.isawaitable(value):
                    value = await with_timeout(value, timeout)
        except TimeoutError:
            return error_verdict(f"{self.spec.function} did not return within {timeout:g}s", name=self.name)
        except Exception as exc:  # noqa: BLE001 - the evaluator's own failure is its verdict
            return error_verdict(f"{type(exc).__name__}: {exc}", name=self.name)
        return verdict_from_return(value, scale=self.spec.scale, name=self.name)
