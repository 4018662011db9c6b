"""What the result page shows of a conversation's transcript: turns, prior messages, the simulator, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assay.domain.messages import content_text
from assay.domain.transcripts import turns_of

STOP_REASONS = {
    "done": "every user turn answered",
    "goal_met": "the simulated user judged its goal met",
    "handoff": "the agent handed off",
    "turn_limit": "the turn limit was reached",
    "step_limit": "the agent was still calling tools at the step limit",
    "unmocked_tool": "the agent called a tool with no mocked result",
    "error": "an error",
}


@dataclass(slots=True)
class TranscriptView:
    """A stored transcript shaped for the template."""

    turns: list[dict[str, Any]]
    prior: list[dict[str, str]] = field(default_factory=list)
    stop_reason: str = "done"
    stop_text: str = ""
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    simulator: dict[str, Any] | None = None


def transcript_view(transcript: dict[str, Any] | None) -> TranscriptView | None:
    """The view of a result's transcript (None for a one-turn case)."""
    if not transcript:
        return None
    stored = transcript.get("messages")
    messages: list[Any] = stored if isinstance(stored, list) else []
    count = transcript.get("prior_messages")
    prior = messages[: count if isinstance(count, int) else 0]
    metrics = transcript.get("metrics")
    simulator = transcript.get("simulator")
    reason = str(transcript.get("stop_reason") or "done")
    return TranscriptView(
        turns=turns_of(transcript),
        prior=[
            {"role": str(m.get("role", "")), "text": content_text(m.get("content"))}
            for m in prior
            if isinstance(m, dict)
        ],
        stop_reason=reason,
        stop_text=STOP_REASONS.get(reason, reason),
        error=transcript.get("error"),
        metrics=metrics if isinstance(metrics, dict) else {},
        simulator=simulator if isinstance(simulator, dict) else None,
    )
