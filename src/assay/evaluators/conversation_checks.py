"""Deterministic checks over a whole conversation: per-turn checks, trajectory matching, turn and step budgets.

- `per_turn`: any built-in check applied to every assistant turn (`turns: every`) or to the last one; it
  passes when the check passes on each turn it applies to; the score is the mean of their scores.
- `trajectory`: the tool calls of the whole conversation against the expected ones (`expected`, else the
  case's `expected_tool_calls`), in one of three orders: `exact` (the same calls in the same order, nothing
  else), `in_order` (the expected calls in order, other calls allowed between them), `any_order` (the expected
  calls in any order; other calls fail it unless `allow_extra`). Arguments match as a subset by default.
- `conversation_metrics`: turns used, model calls, and the turns and calls it took to reach a simulated
  user's goal; it fails when a budget (`max_turns`, `max_steps`) is exceeded or, with `require_goal`, when the
  goal was not met; without a budget it reports the metrics as not applicable.

A one-turn case is a conversation of one turn: its input and reply.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter, field_validator

from assay.domain.outcomes import CaseOutcome, ToolCall, Verdict
from assay.evaluators.checks import CHECK_TYPES, CheckConfig, ToolCallSpec, match_tool_calls, parse_check_config

CONVERSATION_CHECK_TYPES: frozenset[str] = frozenset({"per_turn", "trajectory", "conversation_metrics"})


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, max_length=200)

    @property
    def label(self) -> str:
        return self.name or self.type  # type: ignore[attr-defined]

    def _verdict(self, passed: bool, score: float, reason: str, **details: Any) -> Verdict:
        return Verdict(self.label, "passed" if passed else "failed", score, reason, passed, details=details)

    def _na(self, reason: str, **details: Any) -> Verdict:
        return Verdict(self.label, "not_applicable", None, reason, None, details=details)


def turn_outcomes(outcome: CaseOutcome) -> list[CaseOutcome]:
    """One outcome per assistant turn (a one-turn case: the case itself)."""
    if not outcome.turns:
        return [outcome]
    return [
        CaseOutcome(
            input=str(turn.get("user") or ""),
            output=str(turn.get("assistant") or ""),
            expected=outcome.expected,
            tool_calls=[ToolCall(c["name"], c.get("arguments") or {}) for c in turn.get("tool_calls") or []],
            latency_ms=turn.get("latency_ms"),
            tokens=turn.get("tokens"),
            metadata=outcome.metadata,
        )
        for turn in outcome.turns
    ]


class PerTurnCheck(_Base):
    """A built-in check on every assistant turn, or on the last."""

    type: Literal["per_turn"] = "per_turn"
    check: dict[str, Any]
    turns: Literal["every", "last"] = "every"

    @field_validator("check")
    @classmethod
    def _check(cls, value: dict[str, Any]) -> dict[str, Any]:
        kind = value.get("type")
        if kind not in CHECK_TYPES:
            raise ValueError(f"check.type must be a built-in check, one of: {', '.join(sorted(CHECK_TYPES))}")
        return parse_check_config(value).model_dump(mode="json", by_alias=True)

    _inner: Any = PrivateAttr()

    def model_post_init(self, __context: Any) -> None:
        self._inner = parse_check_config(self.check)

    @property
    def inner(self) -> CheckConfig:
        inner: CheckConfig = self._inner
        return inner

    def run(self, outcome: CaseOutcome) -> Verdict:
        turns = turn_outcomes(outcome)
        numbered = list(enumerate(turns, 1))
        if self.turns == "last":
            numbered = numbered[-1:]
        per_turn = []
        failed = []
        scores = []
        for number, turn in numbered:
            verdict = self.inner.run(turn)
            per_turn.append(
                {"turn": number, "status": verdict.status, "score": verdict.score, "reason": verdict.reason}
            )
            if verdict.status == "error":
                return Verdict(self.label, "error", None, f"turn {number}: {verdict.reason}", error=verdict.error)
            if verdict.status in ("passed", "failed"):
                scores.append(verdict.score if verdict.score is not None else float(verdict.status == "passed"))
                if verdict.status == "failed":
                    failed.append(f"turn {number}: {verdict.reason}")
        if not scores:
            return self._na(f"{self.inner.label} applied to no turn.", turns=per_turn)
        which = "the last turn" if self.turns == "last" else f"{len(scores)} turn(s)"
        score = sum(scores) / len(scores)
        if failed:
            return self._verdict(False, score, f"{self.inner.label} failed on " + "; ".join(failed), turns=per_turn)
        return self._verdict(True, score, f"{self.inner.label} passed on {which}.", turns=per_turn)


class TrajectoryCheck(_Base):
    """The conversation's tool calls against the expected trajectory (see the module doc)."""

    type: Literal["trajectory"] = "trajectory"
    expected: list[ToolCallSpec] | None = None
    order: Literal["exact", "in_order", "any_order"] = "in_order"
    arguments: Literal["subset", "exact", "ignore"] = "subset"
    allow_extra: bool = Field(default=False, description="any_order only: calls beyond the expected ones pass.")

    def run(self, outcome: CaseOutcome) -> Verdict:
        if self.expected is not None:
            expected = [ToolCall(e.name, dict(e.arguments)) for e in self.expected]
        elif outcome.expected_tool_calls is not None:
            expected = outcome.expected_tool_calls
        else:
            return self._na("No expected trajectory for this case.")
        made = outcome.tool_calls
        ordered = self.order != "any_order"
        result = match_tool_calls(expected, made, arguments=self.arguments, ordered=ordered)
        extras_ok = self.order == "in_order" or (self.order == "any_order" and self.allow_extra)
        complete = result.matched == len(expected)
        passed = complete and (extras_ok or not result.unexpected)
        score = result.matched / len(expected) if expected else (1.0 if passed else 0.0)
        made_names = [c.name for c in made]
        if passed:
            reason = f"Trajectory matches ({self.order}): {', '.join(made_names) or 'no tool calls'}."
        else:
            parts = [f"{result.matched}/{len(expected)} expected call(s) matched ({self.order})"]
            if result.mismatched:
                parts.append("argument mismatch: " + "; ".join(result.mismatched))
            if result.missing:
                parts.append("missing: " + ", ".join(result.missing))
            if result.unexpected and not extras_ok:
                parts.append("unexpected: " + ", ".join(result.unexpected))
            if result.order_note:
                parts.append(result.order_note)
            reason = "; ".join(parts) + "."
        return self._verdict(
            passed,
            score,
            reason,
            order=self.order,
            made=made_names,
            matched=result.matched,
            expected=len(expected),
            missing=result.missing,
            unexpected=result.unexpected,
            mismatched=result.mismatched,
        )


class ConversationMetricsCheck(_Base):
    """Turns used and steps to the goal, with optional budgets."""

    type: Literal["conversation_metrics"] = "conversation_metrics"
    max_turns: int | None = Field(default=None, ge=1)
    max_steps: int | None = Field(default=None, ge=1)
    """Model calls of the agent in the whole conversation (tool-loop steps included)."""
    require_goal: bool = False

    def run(self, outcome: CaseOutcome) -> Verdict:
        metrics = dict(outcome.metrics or {"turns": 1, "steps": 1, "tool_calls": len(outcome.tool_calls)})
        turns, steps = int(metrics.get("turns") or 0), int(metrics.get("steps") or 0)
        summary = f"{turns} turn(s), {steps} model call(s)"
        if metrics.get("turns_to_goal") is not None:
            summary += f"; goal met after {metrics['turns_to_goal']} turn(s), {metrics.get('steps_to_goal')} call(s)"
        problems = []
        if self.max_turns is not None and turns > self.max_turns:
            problems.append(f"{turns} turns exceed the budget of {self.max_turns}")
        if self.max_steps is not None and steps > self.max_steps:
            problems.append(f"{steps} model calls exceed the budget of {self.max_steps}")
        if self.require_goal and not metrics.get("goal_met"):
            problems.append("the simulated user's goal was not met")
        if problems:
            return self._verdict(False, 0.0, f"{summary}: " + "; ".join(problems) + ".", **metrics)
        if self.max_turns is None and self.max_steps is None and not self.require_goal:
            return self._na(f"{summary} (no budget set).", **metrics)
        return self._verdict(True, 1.0, f"{summary}, within budget.", **metrics)


ConversationCheckConfig = Annotated[
    PerTurnCheck | TrajectoryCheck | ConversationMetricsCheck, Field(discriminator="type")
]
_ADAPTER: TypeAdapter[ConversationCheckConfig] = TypeAdapter(ConversationCheckConfig)


def parse_conversation_check(data: Any) -> PerTurnCheck | TrajectoryCheck | ConversationMetricsCheck:
    """Validate a conversation check config (raises `pydantic.ValidationError`)."""
    return _ADAPTER.validate_python(data)


def run_conversation_check(
    config: PerTurnCheck | TrajectoryCheck | ConversationMetricsCheck, outcome: CaseOutcome
) -> Verdict:
    """Apply one conversation check; a failure to run becomes an `error` verdict."""
    try:
        return config.run(outcome)
    except Exception as exc:  # noqa: BLE001 - an odd outcome must not stop the run
        message = f"{type(exc).__name__}: {exc}"
        return Verdict(config.label, "error", None, f"Check {config.type} failed to run: {message}", error=message)
