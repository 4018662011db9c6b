"""What a case produced and what an evaluator decided: the vocabulary evaluators, providers and targets share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

VerdictStatus = Literal["passed", "failed", "not_applicable", "error"]


@dataclass(slots=True)
class ToolCall:
    """One tool call made by the agent under test (or expected of it)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}


@dataclass(slots=True)
class CaseOutcome:
    """Everything an evaluator may look at for one case: the input, what the agent did, what was expected."""

    input: str
    output: str
    expected: str | None = None
    expected_tool_calls: list[ToolCall] | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    latency_ms: float | None = None
    tokens: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] | None = None
    """A conversation case's whole conversation in the OpenAI chat format (None: one turn)."""
    turns: list[dict[str, Any]] | None = None
    """A conversation case's turns as its transcript records them (`user`, `assistant`, `tool_calls`, …)."""
    goal: str | None = None
    """A simulated user's goal."""
    metrics: dict[str, Any] | None = None
    """A conversation's turns used, model calls, steps to the goal (see `domain/transcripts.py`)."""


@dataclass(slots=True)
class Verdict:
    """One evaluator's decision about one case.

    `score` is in [0, 1]; `passed` is None when the evaluator found the case not applicable or failed to run.
    """

    evaluator: str
    status: VerdictStatus
    score: float | None
    reason: str
    passed: bool | None = None
    judge_tokens: int = 0
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "evaluator": self.evaluator,
            "status": self.status,
            "score": self.score,
            "passed": self.passed,
            "reason": self.reason,
            "judge_tokens": self.judge_tokens,
            "error": self.error,
            "details": self.details,
        }
