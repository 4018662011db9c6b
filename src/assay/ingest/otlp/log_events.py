"""GenAI content sent as log events, and joining it to the span it belongs to (by trace and span id).

- `gen_ai.client.inference.operation.details` (current conventions): the log's attributes carry
  `gen_ai.input.messages`, `gen_ai.system_instructions`, `gen_ai.output.messages`, `gen_ai.tool.definitions`.
- The older per-message events: `gen_ai.system.message`, `gen_ai.user.message`, `gen_ai.assistant.message`,
  `gen_ai.tool.message` (body `{content, tool_calls, id}`) and `gen_ai.choice` (body `{index, finish_reason,
  message}`), one log per message, ordered by time.

A `LogContent` is what one log gives; `merge_contents` puts those of one span together in time order, and
`apply_contents` sets them on the span's event where the span's own attributes gave nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assay.ingest.otlp.messages import json_value
from assay.ingest.otlp.records import OtelLog
from assay.ingest.otlp.semconv import read_content

DETAILS_EVENT = "gen_ai.client.inference.operation.details"
_MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
CHOICE_EVENT = "gen_ai.choice"


@dataclass(slots=True)
class LogContent:
    """The content one log record gives its span; `time` orders the per-message ones."""

    time: int = 0
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    tools: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "inputs": self.inputs, "outputs": self.outputs, "tools": self.tools}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogContent:
        return cls(
            int(data.get("time") or 0),
            list(data.get("inputs") or []),
            list(data.get("outputs") or []),
            data.get("tools"),
        )


def is_genai_log(log: OtelLog) -> bool:
    """Whether the record is a GenAI content event this module reads."""
    return log.event_name == DETAILS_EVENT or log.event_name in _MESSAGE_EVENTS or log.event_name == CHOICE_EVENT


def _message(role: str, body: Mapping[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": body.get("role") or role, "content": json_value(body.get("content")) or ""}
    if body.get("tool_calls"):
        message["tool_calls"] = body["tool_calls"]
    if role == "tool" and body.get("id"):
        message["tool_call_id"] = body["id"]
    return message


def read_log(log: OtelLog) -> LogContent | None:
    """The content of one GenAI log event (None for any other log)."""
    content = LogContent(time=log.time_unix_nano)
    body = json_value(log.body)
    if log.event_name == DETAILS_EVENT:
        mapped = read_content(log.attributes if log.attributes else (body if isinstance(body, dict) else {}))
        content.inputs = list(mapped.properties.get("$ai_input") or [])
        content.outputs = list(mapped.properties.get("$ai_output_choices") or [])
        content.tools = mapped.properties.get("$ai_tools")
        return content
    body = body if isinstance(body, Mapping) else {"content": body}
    if log.event_name in _MESSAGE_EVENTS:
        content.inputs = [_message(_MESSAGE_EVENTS[log.event_name], body)]
        return content
    if log.event_name == CHOICE_EVENT:
        inner = body.get("message")
        content.outputs = [_message("assistant", inner if isinstance(inner, Mapping) else {"content": inner})]
        return content
    return None


def merge_contents(contents: Iterable[LogContent]) -> LogContent:
    """The contents of one span's logs as one, messages in time order."""
    merged = LogContent()
    for part in sorted(contents, key=lambda c: c.time):
        merged.inputs.extend(part.inputs)
        merged.outputs.extend(part.outputs)
        if part.tools is not None:
            merged.tools = part.tools
        merged.time = max(merged.time, part.time)
    return merged


def apply_contents(properties: dict[str, Any], content: LogContent) -> None:
    """Fill `$ai_input`, `$ai_output_choices`, `$ai_tools` from the logs where the span gave none."""
    if content.inputs and not properties.get("$ai_input"):
        properties["$ai_input"] = content.inputs
    if content.outputs and not properties.get("$ai_output_choices"):
        properties["$ai_output_choices"] = content.outputs
    if content.tools is not None and "$ai_tools" not in properties:
        properties["$ai_tools"] = content.tools


def has_output(content: LogContent) -> bool:
    """Whether the logs hold the call's answer (then the span's content is complete)."""
    return bool(content.outputs)
