"""OpenInference's `llm.*` attributes (Arize Phoenix instrumentations) as `$ai_*` properties.

`openinference.span.kind` names the kind (`LLM` → a generation, `EMBEDDING` → an embedding, the others a
span); `llm.model_name`, `llm.provider` (or `llm.system`), `llm.input_messages.N.message.*` and
`llm.output_messages.N.message.*` (text `content`, or `contents.M.message_content.*` blocks, and
`tool_calls.M.tool_call.*`), `llm.token_count.*`, `llm.invocation_parameters`, `llm.tools.N.tool.json_schema`,
`input.value` / `output.value` (the span's state) and `session.id`.
"""

from __future__ import annotations

import re
from typing import Any

from assay.ingest.otlp.mapped import Kind, Mapped
from assay.ingest.otlp.messages import as_number, json_value

_SPAN_KINDS: dict[str, Kind] = {"LLM": "generation", "EMBEDDING": "embedding"}
_MESSAGE = re.compile(r"^llm\.(input|output)_messages\.(\d+)\.message\.(.+)$")
_CONTENT = re.compile(r"^contents\.(\d+)\.message_content\.(.+)$")
_TOOL_CALL = re.compile(r"^tool_calls\.(\d+)\.tool_call\.(id|function\.name|function\.arguments)$")
_TOOL = re.compile(r"^llm\.tools\.(\d+)\.tool\.json_schema$")
_NUMBERS = (
    ("llm.token_count.prompt", "$ai_input_tokens"),
    ("llm.token_count.completion", "$ai_output_tokens"),
    ("llm.token_count.total", "$ai_total_tokens"),
    ("llm.token_count.prompt_details.cache_read", "$ai_cache_read_input_tokens"),
    ("llm.token_count.prompt_details.cache_write", "$ai_cache_creation_input_tokens"),
    ("llm.token_count.completion_details.reasoning", "$ai_reasoning_tokens"),
)


def _message(fields: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": fields.get("role") or "user"}
    blocks: dict[int, dict[str, Any]] = {}
    calls: dict[int, dict[str, Any]] = {}
    for name, value in fields.items():
        if (m := _CONTENT.match(name)) is not None:
            blocks.setdefault(int(m.group(1)), {})[m.group(2)] = value
        elif (m := _TOOL_CALL.match(name)) is not None:
            calls.setdefault(int(m.group(1)), {})[m.group(2)] = value
    if "content" in fields:
        message["content"] = fields["content"]
    elif blocks:
        message["content"] = [
            {"type": "text", "text": b.get("text", "")}
            if b.get("type", "text") == "text"
            else {"type": "image_url", "image_url": {"url": b.get("image.image.url")}}
            for _, b in sorted(blocks.items())
        ]
    else:
        message["content"] = ""
    if calls:
        message["tool_calls"] = [
            {
                "id": c.get("id"),
                "type": "function",
                "function": {"name": c.get("function.name"), "arguments": c.get("function.arguments") or ""},
            }
            for _, c in sorted(calls.items())
        ]
    for extra in ("name", "tool_call_id"):
        if fields.get(extra):
            message[extra] = fields[extra]
    return message


def _parameters(value: Any) -> dict[str, Any] | None:
    parsed = json_value(value)
    return parsed if isinstance(parsed, dict) else None


def read_openinference(attributes: dict[str, Any]) -> Mapped:
    """The `$ai_*` properties OpenInference attributes give."""
    span_kind = attributes.get("openinference.span.kind")
    kind: Kind | None = None
    if isinstance(span_kind, str) and span_kind:
        kind = _SPAN_KINDS.get(span_kind.upper(), "span")
    out = Mapped(kind=kind)
    if span_kind is not None:
        out.used.add("openinference.span.kind")
    out.take(attributes, "llm.model_name", "$ai_model")
    out.take(attributes, "embedding.model_name", "$ai_model")
    out.take(attributes, "llm.provider", "$ai_provider")
    out.take(attributes, "llm.system", "$ai_provider")
    for key, prop in _NUMBERS:
        out.take(attributes, key, prop, as_number)
    messages: dict[str, dict[int, dict[str, Any]]] = {}
    tools: dict[int, Any] = {}
    for key, value in attributes.items():
        if (m := _MESSAGE.match(key)) is not None:
            out.used.add(key)
            messages.setdefault(m.group(1), {}).setdefault(int(m.group(2)), {})[m.group(3)] = value
        elif (m := _TOOL.match(key)) is not None:
            out.used.add(key)
            tools[int(m.group(1))] = json_value(value)
    if "input" in messages:
        out.properties["$ai_input"] = [_message(f) for _, f in sorted(messages["input"].items())]
    if "output" in messages:
        out.properties["$ai_output_choices"] = [_message(f) for _, f in sorted(messages["output"].items())]
    if tools:
        out.properties["$ai_tools"] = [t for _, t in sorted(tools.items())]
    if "llm.invocation_parameters" in attributes:
        out.used.add("llm.invocation_parameters")
        parameters = _parameters(attributes["llm.invocation_parameters"])
        if parameters:
            out.properties["$ai_model_parameters"] = parameters
            for name, prop in (("temperature", "$ai_temperature"), ("max_tokens", "$ai_max_tokens")):
                number = as_number(parameters.get(name))
                if number is not None:
                    out.properties[prop] = number
            if isinstance(parameters.get("stream"), bool):
                out.properties["$ai_stream"] = parameters["stream"]
    out.take(attributes, "input.value", "$ai_input_state", json_value)
    out.take(attributes, "output.value", "$ai_output_state", json_value)
    out.used.update(k for k in ("input.mime_type", "output.mime_type") if k in attributes)
    out.take(attributes, "session.id", "$ai_session_id")
    return out
