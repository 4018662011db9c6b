"""Chat messages of the GenAI semantic conventions (role + typed parts) as the `$ai_input` messages PostHog shows.

A semantic-conventions message is `{"role", "parts": [{"type": "text", "content"}, {"type": "tool_call", "id",
"name", "arguments"}, {"type": "tool_call_response", "id", "response"}, …]}`; the result is
`{"role", "content"}` with OpenAI-style `tool_calls` and `tool_call_id` where the parts hold them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson


def json_value(value: Any) -> Any:
    """A value that may arrive as a JSON string (the conventions allow both) as a structured value."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def decoded_json(value: Any) -> Any:
    """A value that is always sent JSON-encoded (OpenLLMetry's entity input and output), decoded; text if not JSON."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def as_number(value: Any) -> int | float | None:
    """A token count or parameter as a number (numeric strings too); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode() if value is not None else ""


def _tool_call(part: Mapping[str, Any]) -> dict[str, Any]:
    arguments = part.get("arguments")
    return {
        "id": part.get("id"),
        "type": "function",
        "function": {"name": part.get("name"), "arguments": _text(arguments) if arguments is not None else ""},
    }


def message_from_parts(message: Mapping[str, Any]) -> dict[str, Any]:
    """One semantic-conventions message as a PostHog message (already PostHog-shaped messages pass through)."""
    parts = message.get("parts")
    if not isinstance(parts, list):
        return dict(message)
    out: dict[str, Any] = {"role": message.get("role") or "user"}
    blocks: list[Any] = []
    tool_calls: list[dict[str, Any]] = []
    for part in parts:
        if not isinstance(part, Mapping):
            blocks.append({"type": "text", "text": _text(part)})
            continue
        kind = part.get("type")
        if kind == "text":
            blocks.append({"type": "text", "text": _text(part.get("content"))})
        elif kind == "tool_call":
            tool_calls.append(_tool_call(part))
        elif kind == "tool_call_response":
            out["role"] = "tool" if out["role"] in ("user", "tool") else out["role"]
            out["tool_call_id"] = part.get("id")
            blocks.append({"type": "text", "text": _text(part.get("response", part.get("result")))})
        elif kind == "reasoning":
            blocks.append({"type": "reasoning", "text": _text(part.get("content"))})
        else:
            blocks.append(dict(part))
    if len(blocks) == 1 and blocks[0].get("type") == "text":
        out["content"] = blocks[0]["text"]
    elif blocks:
        out["content"] = blocks
    else:
        out["content"] = ""
    if tool_calls:
        out["tool_calls"] = tool_calls
    if message.get("name"):
        out["name"] = message["name"]
    return out


def messages_from_parts(value: Any) -> list[dict[str, Any]] | None:
    """A `gen_ai.input.messages` / `gen_ai.output.messages` value (JSON text or structured) as messages."""
    value = json_value(value)
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        return None
    return [message_from_parts(m) if isinstance(m, Mapping) else {"role": "user", "content": _text(m)} for m in value]


def system_message(value: Any) -> dict[str, Any] | None:
    """`gen_ai.system_instructions` (a list of parts, or text) as one system message."""
    value = json_value(value)
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return {"role": "system", "content": value}
    if isinstance(value, Mapping):
        value = [value]
    if isinstance(value, list):
        return message_from_parts({"role": "system", "parts": value})
    return {"role": "system", "content": _text(value)}
