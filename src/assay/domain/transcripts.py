"""The transcript a conversation case leaves on its result: each turn with its latency, tokens and tool calls.

Stored as JSON in `results.transcript` (None for a one-turn case):

    {"turns": [{"index", "source", "user", "assistant", "tool_calls": [{"id", "name", "arguments", "result",
                "mocked"}], "latency_ms", "tokens", "steps"}],
     "messages": [... the whole conversation, OpenAI chat format ...],
     "prior_messages": 2, "stop_reason": "done", "error": null,
     "simulator": {"goal", "persona", "stopped", "goal_met", "messages": [...], "tokens"},
     "metrics": {"turns", "steps", "tool_calls", "goal_met", "turns_to_goal", "steps_to_goal"}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

TurnSource = Literal["input", "scripted", "simulated"]
StopReason = Literal["done", "goal_met", "handoff", "turn_limit", "step_limit", "unmocked_tool", "error"]


@dataclass(slots=True)
class TurnRecord:
    """One user turn and everything the agent did to answer it."""

    index: int
    source: TurnSource
    user: str
    assistant: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float = 0.0
    tokens: int | None = None
    steps: int = 0
    """Model calls made for this turn (more than one when the agent looped through tools)."""

    def to_json(self) -> dict[str, Any]:
        """The turn as stored."""
        return {
            "index": self.index,
            "source": self.source,
            "user": self.user,
            "assistant": self.assistant,
            "tool_calls": self.tool_calls,
            "latency_ms": round(self.latency_ms, 3),
            "tokens": self.tokens,
            "steps": self.steps,
        }


@dataclass(slots=True)
class Transcript:
    """A conversation as it happened."""

    turns: list[TurnRecord] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    prior_messages: int = 0
    stop_reason: StopReason = "done"
    error: str | None = None
    simulator: dict[str, Any] | None = None
    goal_met_at: int | None = None
    """The turn (1-based) after which the simulated user judged its goal met."""

    @property
    def final_text(self) -> str:
        """The last assistant message's text (the result's `agent_response`)."""
        return self.turns[-1].assistant if self.turns else ""

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        """Every tool call of the conversation as `{name, arguments}` (the result's `tool_calls_made`)."""
        return [{"name": c["name"], "arguments": c.get("arguments") or {}} for t in self.turns for c in t.tool_calls]

    @property
    def latency_ms(self) -> float:
        return sum(t.latency_ms for t in self.turns)

    @property
    def tokens(self) -> int | None:
        counted = [t.tokens for t in self.turns if t.tokens is not None]
        return sum(counted) if counted else None

    def metrics(self) -> dict[str, Any]:
        """Turns used, model calls, tool calls, and how many turns and model calls it took to reach the goal."""
        goal = self.goal_met_at
        return {
            "turns": len(self.turns),
            "steps": sum(t.steps for t in self.turns),
            "tool_calls": sum(len(t.tool_calls) for t in self.turns),
            "goal_met": None if self.simulator is None else goal is not None,
            "turns_to_goal": goal,
            "steps_to_goal": None if goal is None else sum(t.steps for t in self.turns[:goal]),
        }

    def to_json(self) -> dict[str, Any]:
        """The transcript as stored on the result."""
        data: dict[str, Any] = {
            "turns": [t.to_json() for t in self.turns],
            "messages": self.messages,
            "prior_messages": self.prior_messages,
            "stop_reason": self.stop_reason,
            "error": self.error,
            "metrics": self.metrics(),
        }
        if self.simulator is not None:
            data["simulator"] = self.simulator
        return data


def turns_of(transcript: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The stored turns of a transcript (none for a one-turn case)."""
    turns = (transcript or {}).get("turns")
    return turns if isinstance(turns, list) else []


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def transcript_lines(transcript: dict[str, Any] | None) -> list[str]:
    """A stored transcript as plain-text lines, turn by turn (for reports): each turn's heading with its latency,
    tokens and model calls, the user's message, every tool call with its result, the agent's reply; then why
    the conversation stopped."""
    lines: list[str] = []
    for turn in turns_of(transcript):
        tokens = turn.get("tokens")
        head = f"turn {int(turn.get('index', 0)) + 1} ({turn.get('source')}): {turn.get('latency_ms', 0):.0f} ms"
        head += f", {tokens} tokens" if tokens is not None else ""
        head += f", {turn.get('steps', 0)} model call(s)"
        lines.append(head)
        lines.append(f"  user: {turn.get('user', '')}")
        for call in turn.get("tool_calls") or []:
            shown = f"  tool: {call.get('name')}({_json_text(call.get('arguments') or {})})"
            if "result" in call:
                shown += f" -> {_json_text(call['result'])}"
            elif call.get("mocked") is False:
                shown += " -> (no mock)"
            lines.append(shown)
        lines.append(f"  assistant: {turn.get('assistant', '')}")
    if transcript and lines:
        stop = f"stopped: {transcript.get('stop_reason')}"
        if transcript.get("error"):
            stop += f" ({transcript['error']})"
        lines.append(stop)
    return lines
