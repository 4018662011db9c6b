"""The current OpenTelemetry GenAI semantic conventions (`gen_ai.*` attributes) as `$ai_*` properties.

`gen_ai.operation.name` decides the event (`chat`, `text_completion`, `generate_content` → a generation,
`embeddings` → an embedding, anything else → a span); the response model wins over the requested one;
`gen_ai.provider.name` (or the older `gen_ai.system`) is the provider; content comes from
`gen_ai.input.messages`, `gen_ai.system_instructions`, `gen_ai.output.messages` and `gen_ai.tool.definitions`.
Usage reads both the current (`input_tokens`) and the older (`prompt_tokens`) names.
"""

from __future__ import annotations

from typing import Any

from assay.ingest.otlp.mapped import Kind, Mapped
from assay.ingest.otlp.messages import as_number, json_value, messages_from_parts, system_message

GENERATION_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "completion", "responses"})
EMBEDDING_OPERATIONS = frozenset({"embeddings", "embedding"})

_NUMBERS = (
    ("gen_ai.usage.input_tokens", "$ai_input_tokens"),
    ("gen_ai.usage.prompt_tokens", "$ai_input_tokens"),
    ("gen_ai.usage.output_tokens", "$ai_output_tokens"),
    ("gen_ai.usage.completion_tokens", "$ai_output_tokens"),
    ("gen_ai.usage.total_tokens", "$ai_total_tokens"),
    ("gen_ai.usage.cache_read.input_tokens", "$ai_cache_read_input_tokens"),
    ("gen_ai.usage.cache_read_input_tokens", "$ai_cache_read_input_tokens"),
    ("gen_ai.usage.cache_creation.input_tokens", "$ai_cache_creation_input_tokens"),
    ("gen_ai.usage.cache_creation_input_tokens", "$ai_cache_creation_input_tokens"),
    ("gen_ai.usage.reasoning_tokens", "$ai_reasoning_tokens"),
    ("gen_ai.usage.reasoning.output_tokens", "$ai_reasoning_tokens"),
    ("gen_ai.request.temperature", "$ai_temperature"),
    ("gen_ai.request.max_tokens", "$ai_max_tokens"),
)
_PARAMETERS = (
    "gen_ai.request.top_p",
    "gen_ai.request.top_k",
    "gen_ai.request.frequency_penalty",
    "gen_ai.request.presence_penalty",
    "gen_ai.request.stop_sequences",
    "gen_ai.request.seed",
    "gen_ai.request.choice.count",
)


def operation_kind(operation: Any) -> Kind | None:
    """The event kind a `gen_ai.operation.name` value stands for (None when there is none)."""
    if not isinstance(operation, str) or not operation:
        return None
    if operation in GENERATION_OPERATIONS:
        return "generation"
    if operation in EMBEDDING_OPERATIONS:
        return "embedding"
    return "span"


def read_semconv(attributes: dict[str, Any]) -> Mapped:
    """The `$ai_*` properties the semantic-conventions attributes of a span give."""
    out = Mapped(kind=operation_kind(attributes.get("gen_ai.operation.name")))
    if "gen_ai.operation.name" in attributes:
        out.used.add("gen_ai.operation.name")
    out.take(attributes, "gen_ai.response.model", "$ai_model")
    out.take(attributes, "gen_ai.request.model", "$ai_model")
    out.take(attributes, "gen_ai.provider.name", "$ai_provider")
    out.take(attributes, "gen_ai.system", "$ai_provider")
    for key, prop in _NUMBERS:
        out.take(attributes, key, prop, as_number)
    parameters = {key.removeprefix("gen_ai.request."): attributes[key] for key in _PARAMETERS if key in attributes}
    out.used.update(k for k in _PARAMETERS if k in attributes)
    for key, prop in (("gen_ai.request.temperature", "temperature"), ("gen_ai.request.max_tokens", "max_tokens")):
        if key in attributes:
            parameters[prop] = attributes[key]
    if parameters:
        out.properties["$ai_model_parameters"] = parameters
    out.take(attributes, "gen_ai.request.stream", "$ai_stream", lambda v: v if isinstance(v, bool) else None)
    out.take(attributes, "gen_ai.conversation.id", "$ai_session_id")
    if attributes.get("gen_ai.operation.name") == "execute_tool":
        out.take(attributes, "gen_ai.tool.call.arguments", "$ai_input_state", json_value)
        out.take(attributes, "gen_ai.tool.call.result", "$ai_output_state", json_value)
    content = read_content(attributes)
    out.used.update(content.used)
    for prop, value in content.properties.items():
        out.properties.setdefault(prop, value)
    return out


def read_content(attributes: dict[str, Any]) -> Mapped:
    """`$ai_input`, `$ai_output_choices` and `$ai_tools` from the content attributes (on a span or a log event)."""
    out = Mapped()
    inputs: list[dict[str, Any]] = []
    if "gen_ai.system_instructions" in attributes:
        out.used.add("gen_ai.system_instructions")
        system = system_message(attributes["gen_ai.system_instructions"])
        if system is not None:
            inputs.append(system)
    if "gen_ai.input.messages" in attributes:
        out.used.add("gen_ai.input.messages")
        inputs.extend(messages_from_parts(attributes["gen_ai.input.messages"]) or [])
    if inputs:
        out.properties["$ai_input"] = inputs
    if "gen_ai.output.messages" in attributes:
        out.used.add("gen_ai.output.messages")
        outputs = messages_from_parts(attributes["gen_ai.output.messages"])
        if outputs is not None:
            out.properties["$ai_output_choices"] = outputs
    out.take(attributes, "gen_ai.tool.definitions", "$ai_tools", json_value)
    return out
