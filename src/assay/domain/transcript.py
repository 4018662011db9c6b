"""An `$ai_*` event read for people: its figures (model, tokens, latency, cost) and its messages as a transcript.

The message shapes are those `domain/messages.py` renders as text (OpenAI chat messages and choices, Anthropic
content blocks, plain strings); here they become turns a page shows one by one: a role, text, tool calls and
tool results.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assay.domain.messages import content_text, extract_text_from_messages


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the assistant asked for."""

    id: str
    name: str
    arguments: str


@dataclass(slots=True)
class Turn:
    """One message of a transcript; `tool_call_id` is set on a tool result."""

    role: str
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class EventFigures:
    """What a list row or a page header shows of an event (None when the event does not say)."""

    model: str | None
    provider: str | None
    input_tokens: float | None
    output_tokens: float | None
    latency_s: float | None
    cost_usd: float | None
    is_error: bool
    span_name: str | None

    @property
    def total_tokens(self) -> float | None:
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def event_figures(properties: Mapping[str, Any]) -> EventFigures:
    """Model, provider, tokens, latency (seconds), cost and error flag of an event's properties."""
    cost = _number(properties.get("$ai_total_cost_usd"))
    if cost is None:
        parts = [_number(properties.get(k)) for k in ("$ai_input_cost_usd", "$ai_output_cost_usd")]
        cost = sum(p for p in parts if p is not None) if any(p is not None for p in parts) else None
    return EventFigures(
        model=_text(properties.get("$ai_model")),
        provider=_text(properties.get("$ai_provider")),
        input_tokens=_number(properties.get("$ai_input_tokens")),
        output_tokens=_number(properties.get("$ai_output_tokens")),
        latency_s=_number(properties.get("$ai_latency")),
        cost_usd=cost,
        is_error=properties.get("$ai_is_error") in (True, "true", "True"),
        span_name=_text(properties.get("$ai_span_name")),
    )


def _arguments(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _openai_call(call: Any) -> ToolCall:
    if not isinstance(call, Mapping):
        return ToolCall("", "", str(call))
    fn = call.get("function")
    fn = fn if isinstance(fn, Mapping) else call
    return ToolCall(
        str(call.get("id") or ""), str(fn.get("name") or ""), _arguments(fn.get("arguments", fn.get("input")))
    )


def _message_turns(message: Mapping[str, Any]) -> list[Turn]:
    if "role" not in message and isinstance(message.get("message"), Mapping):
        message = message["message"]
    role = str(message.get("role") or "unknown")
    content = message.get("content")
    turn = Turn(role=role, text="")
    results: list[Turn] = []
    if isinstance(content, list):
        texts = []
        for block in content:
            kind = block.get("type") if isinstance(block, Mapping) else None
            if kind == "tool_use":
                turn.tool_calls.append(
                    ToolCall(str(block.get("id") or ""), str(block.get("name") or ""), _arguments(block.get("input")))
                )
            elif kind == "tool_result":
                results.append(
                    Turn("tool", content_text(block.get("content")), tool_call_id=str(block.get("tool_use_id") or ""))
                )
            else:
                texts.append(content_text([block]))
        turn.text = " ".join(t for t in texts if t)
    else:
        turn.text = content_text(content)
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        turn.tool_calls.extend(_openai_call(c) for c in calls)
    if role == "tool" and message.get("tool_call_id"):
        turn.tool_call_id = str(message["tool_call_id"])
    turns = [turn] if turn.text or turn.tool_calls or not results else []
    return turns + results


def transcript(value: Any, *, default_role: str) -> list[Turn]:
    """The turns of a message payload (`$ai_input`, `$ai_output_choices` …); a bare string is one turn."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, str):
        return [Turn(default_role, value)]
    if isinstance(value, list):
        turns: list[Turn] = []
        for item in value:
            if isinstance(item, Mapping):
                turns.extend(_message_turns(item))
            else:
                turns.append(Turn(default_role, item if isinstance(item, str) else str(item)))
        return turns
    if isinstance(value, Mapping) and ("content" in value or "tool_calls" in value or "role" in value):
        return _message_turns({"role": default_role, **value})
    return [Turn(default_role, extract_text_from_messages(value))]


def event_transcript(properties: Mapping[str, Any]) -> tuple[list[Turn], list[Turn]]:
    """The input turns and the output turns of a generation (the output from `$ai_output_choices`, else `$ai_output`)."""
    output = properties.get("$ai_output_choices") or properties.get("$ai_output")
    return transcript(properties.get("$ai_input"), default_role="user"), transcript(output, default_role="assistant")
