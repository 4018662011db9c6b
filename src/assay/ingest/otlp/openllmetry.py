"""OpenLLMetry's older indexed attributes: `gen_ai.prompt.N.*`, `gen_ai.completion.N.*`, `llm.request.functions.N.*`.

`gen_ai.prompt.0.role` / `.content` / `.tool_call_id` / `.tool_calls.M.{id,name,arguments}` become `$ai_input`
messages in index order, `gen_ai.completion.N.*` the `$ai_output_choices`; `llm.request.type` (`chat`,
`completion`, `embedding`) names the kind; `llm.usage.total_tokens`, `llm.is_streaming` and a workflow's or task's `traceloop.entity.input` /
`traceloop.entity.output` (its state) are read too. Model,
provider and usage use the `gen_ai.*` names `semconv.py` reads.
"""

from __future__ import annotations

import re
from typing import Any

from assay.ingest.otlp.mapped import Kind, Mapped
from assay.ingest.otlp.messages import as_number, decoded_json, json_value

_INDEXED = re.compile(r"^(gen_ai\.prompt|gen_ai\.completion|llm\.request\.functions)\.(\d+)\.(.+)$")
_TOOL_CALL = re.compile(r"^tool_calls\.(\d+)\.(id|name|arguments)$")
_REQUEST_KINDS: dict[str, Kind] = {"chat": "generation", "completion": "generation", "embedding": "embedding"}


def _grouped(attributes: dict[str, Any], used: set[str]) -> dict[str, dict[int, dict[str, Any]]]:
    groups: dict[str, dict[int, dict[str, Any]]] = {}
    for key, value in attributes.items():
        match = _INDEXED.match(key)
        if match is None:
            continue
        used.add(key)
        prefix, index, rest = match.group(1), int(match.group(2)), match.group(3)
        groups.setdefault(prefix, {}).setdefault(index, {})[rest] = value
    return groups


def _message(fields: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": fields.get("role") or "user", "content": fields.get("content") or ""}
    calls: dict[int, dict[str, Any]] = {}
    for name, value in fields.items():
        match = _TOOL_CALL.match(name)
        if match is not None:
            calls.setdefault(int(match.group(1)), {})[match.group(2)] = value
    if calls:
        message["tool_calls"] = [
            {
                "id": call.get("id"),
                "type": "function",
                "function": {"name": call.get("name"), "arguments": call.get("arguments") or ""},
            }
            for _, call in sorted(calls.items())
        ]
    if fields.get("tool_call_id"):
        message["tool_call_id"] = fields["tool_call_id"]
    return message


def read_openllmetry(attributes: dict[str, Any]) -> Mapped:
    """The `$ai_*` properties OpenLLMetry's indexed attributes give."""
    request_type = attributes.get("llm.request.type")
    out = Mapped(kind=_REQUEST_KINDS.get(request_type) if isinstance(request_type, str) else None)
    if "llm.request.type" in attributes:
        out.used.add("llm.request.type")
    groups = _grouped(attributes, out.used)
    if "gen_ai.prompt" in groups:
        out.properties["$ai_input"] = [_message(f) for _, f in sorted(groups["gen_ai.prompt"].items())]
    if "gen_ai.completion" in groups:
        out.properties["$ai_output_choices"] = [_message(f) for _, f in sorted(groups["gen_ai.completion"].items())]
    if "llm.request.functions" in groups:
        out.properties["$ai_tools"] = [
            {
                "type": "function",
                "function": {
                    "name": f.get("name"),
                    "description": f.get("description"),
                    "parameters": json_value(f.get("parameters")),
                },
            }
            for _, f in sorted(groups["llm.request.functions"].items())
        ]
    out.take(attributes, "llm.usage.total_tokens", "$ai_total_tokens", as_number)
    out.take(attributes, "llm.is_streaming", "$ai_stream", lambda v: v if isinstance(v, bool) else None)
    out.take(attributes, "traceloop.entity.input", "$ai_input_state", decoded_json)
    out.take(attributes, "traceloop.entity.output", "$ai_output_state", decoded_json)
    return out
