"""A whole trace (or session) as one thing to evaluate: its transcript assembled from its events.

The generations of a trace usually resend the conversation so far as `$ai_input`; the transcript keeps each
turn once: for every generation in time order, the part of its input that the transcript does not already end
with is appended, then its output. Spans contribute their `$ai_input_state`/`$ai_output_state` only when the trace
has no generation. The subject's properties put the transcript where an evaluation of a non-generation event
looks (`$ai_input_state`: every turn before the final assistant reply, `$ai_output_state`: that reply), so Hog
programs and the judge read a trace exactly as they read any other event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from assay.domain.ai_events import EMBEDDING, GENERATION, SPAN, TRACE
from assay.domain.transcript import Turn, event_figures, event_transcript, transcript

TargetKind = Literal["trace", "session"]
TRACE_TARGET = "$ai_trace"
SESSION_TARGET = "$ai_session"
GENERATION_TARGET = GENERATION
TARGETS: tuple[str, ...] = (GENERATION_TARGET, TRACE_TARGET, SESSION_TARGET)
"""What an online evaluation may target: one generation, a whole trace, or a whole session."""

TARGET_KINDS: dict[str, TargetKind] = {TRACE_TARGET: "trace", SESSION_TARGET: "session"}
KIND_TARGETS: dict[str, str] = {"trace": TRACE_TARGET, "session": SESSION_TARGET}

TRACE_EVENTS: frozenset[str] = frozenset({GENERATION, SPAN, TRACE, EMBEDDING})
"""The events that make up a trace and keep it active (never `$ai_evaluation`, `$ai_metric` or `$ai_feedback`)."""

MAX_TRACE_EVENTS = 1000
"""Most events of one trace an evaluation reads (the latest ones)."""


@dataclass(frozen=True, slots=True)
class TraceEventData:
    """What the subject needs of one stored event of the trace."""

    uuid: str
    event: str
    distinct_id: str
    timestamp: datetime
    properties: Mapping[str, Any]


def _same(a: Turn, b: Turn) -> bool:
    return a.role == b.role and a.text == b.text and a.tool_calls == b.tool_calls and a.tool_call_id == b.tool_call_id


def _overlap(existing: Sequence[Turn], incoming: Sequence[Turn]) -> int:
    """How many leading turns of `incoming` the transcript already holds (as its tail, or as a whole prefix)."""
    for size in range(min(len(existing), len(incoming)), 0, -1):
        if all(_same(x, y) for x, y in zip(existing[len(existing) - size :], incoming[:size], strict=True)):
            return size
    return 0


def _history(existing: Sequence[Turn], incoming: Sequence[Turn]) -> int:
    """Leading turns of `incoming` already in the transcript: its whole history when it starts as the transcript does."""
    prefix = 0
    for x, y in zip(existing, incoming, strict=False):
        if not _same(x, y):
            break
        prefix += 1
    if prefix == len(existing) or prefix == len(incoming):
        return prefix
    return _overlap(existing, incoming)


def assemble_transcript(events: Iterable[TraceEventData]) -> list[Turn]:
    """The trace's turns, each once, in time order (see the module docstring)."""
    ordered = sorted(events, key=lambda e: e.timestamp)
    generations = [e for e in ordered if e.event == GENERATION]
    turns: list[Turn] = []
    if generations:
        for event in generations:
            inputs, outputs = event_transcript(event.properties)
            turns.extend(inputs[_history(turns, inputs) :])
            turns.extend(outputs)
        return turns
    for event in ordered:
        if event.event not in (SPAN, TRACE):
            continue
        inputs = transcript(event.properties.get("$ai_input_state"), default_role="user")
        turns.extend(inputs[_history(turns, inputs) :])
        turns.extend(transcript(event.properties.get("$ai_output_state"), default_role="assistant"))
    return turns


def turn_message(turn: Turn) -> dict[str, Any]:
    """A turn as an OpenAI chat message (what `domain/messages.py` renders as `role: text` lines)."""
    message: dict[str, Any] = {"role": turn.role, "content": turn.text}
    if turn.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in turn.tool_calls
        ]
    if turn.tool_call_id is not None:
        message["tool_call_id"] = turn.tool_call_id
    return message


def _sum(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def subject_properties(kind: str, key: str, events: Sequence[TraceEventData]) -> dict[str, Any]:
    """The properties an evaluation of the whole trace (`kind` "trace") or session ("session") sees.

    The trace's own `$ai_trace` event's properties come first (the latest, when there are several), then the
    assembled transcript (`$ai_input_state`, `$ai_output_state`, `$ai_transcript`: every turn), counts and totals.
    """
    ordered = sorted(events, key=lambda e: e.timestamp)
    own = [e for e in ordered if e.event == TRACE]
    props: dict[str, Any] = dict(own[-1].properties) if own and kind == "trace" else {}
    turns = assemble_transcript(ordered)
    messages = [turn_message(t) for t in turns]
    if messages and turns[-1].role == "assistant":
        history, final = messages[:-1], turns[-1]
        output: Any = final.text if not final.tool_calls else [messages[-1]]
    else:
        history, output = messages, ""
    figures = [event_figures(e.properties) for e in ordered]
    props.update(
        {
            "$ai_input_state": history,
            "$ai_output_state": output,
            "$ai_transcript": messages,
            "$ai_event_count": len(ordered),
            "$ai_generation_count": sum(1 for e in ordered if e.event == GENERATION),
            "$ai_is_error": any(f.is_error for f in figures),
        }
    )
    for name, total in (
        ("$ai_input_tokens", _sum(f.input_tokens for f in figures)),
        ("$ai_output_tokens", _sum(f.output_tokens for f in figures)),
        ("$ai_total_cost_usd", _sum(f.cost_usd for f in figures)),
    ):
        if total is not None:
            props[name] = total
    if ordered:
        props["$ai_latency"] = (ordered[-1].timestamp - min(e.timestamp for e in ordered)).total_seconds()
    if kind == "trace":
        props["$ai_trace_id"] = key
    else:
        props["$ai_session_id"] = key
        props.pop("$ai_trace_id", None)
    return props
