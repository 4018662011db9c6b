"""Rendering LLM message payloads as text, and picking an event's input and output.

Follows PostHog's evaluation text extraction: a string is kept; a list of messages becomes
"role: text" lines; content blocks are joined by spaces, each block read from `text`, else
`content`, else its `str()`; OpenAI `tool_calls` render as `[tool_call <id>: name(args)]` and a
`role: "tool"` message is labelled `tool[<tool_call_id>]`. Additions where PostHog's rules are
silent (our choices): Anthropic `tool_use` blocks render like OpenAI tool calls, `tool_result`
blocks as `[tool_result <tool_use_id>: text]` (their content rendered recursively); a list entry
wrapping a message as `{"message": {...}}` (an OpenAI choice) is unwrapped; a message without a
role is labelled `unknown`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

GENERATION_EVENT = "$ai_generation"


def _json(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)


def _args_text(args: Any) -> str:
    if args is None:
        return ""
    return args if isinstance(args, str) else _json(args)


def _render_tool_call(call: Any) -> str:
    if not isinstance(call, Mapping):
        return f"[tool_call: {call}]"
    fn = call.get("function")
    fn = fn if isinstance(fn, Mapping) else call
    name = fn.get("name") or ""
    args = fn.get("arguments", fn.get("input"))
    return f"[tool_call {call.get('id') or ''}: {name}({_args_text(args)})]"


def _block_text(block: Any) -> str:
    if isinstance(block, str):
        return block
    if isinstance(block, Mapping):
        kind = block.get("type")
        if kind == "tool_use":
            return f"[tool_call {block.get('id') or ''}: {block.get('name') or ''}({_args_text(block.get('input'))})]"
        if kind == "tool_result":
            return f"[tool_result {block.get('tool_use_id') or ''}: {content_text(block.get('content'))}]"
        if "text" in block:
            text = block["text"]
            return text if isinstance(text, str) else str(text)
        if "content" in block:
            return content_text(block["content"])
    return str(block)


def content_text(content: Any) -> str:
    """The text of a message's `content`: a string, a list of blocks joined by spaces, or `str()` of anything else."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(t for t in (_block_text(b) for b in content) if t)
    return _block_text(content)


def _message_body(message: Mapping[str, Any]) -> str:
    parts = [content_text(message.get("content"))]
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        parts.extend(_render_tool_call(c) for c in calls)
    return " ".join(p for p in parts if p)


def _render_message(message: Mapping[str, Any]) -> str:
    if "role" not in message and isinstance(message.get("message"), Mapping):
        message = message["message"]
    role = message.get("role") or "unknown"
    if role == "tool" and message.get("tool_call_id"):
        role = f"tool[{message['tool_call_id']}]"
    return f"{role}: {_message_body(message)}"


def extract_text_from_messages(value: Any) -> str:
    """Render a message payload (`$ai_input`, `$ai_output_choices`, span state …) as plain text."""
    if isinstance(value, str):
        return value
    if not value:
        return ""
    if isinstance(value, list):
        return "\n".join(
            m if isinstance(m, str) else _render_message(m) if isinstance(m, Mapping) else str(m) for m in value
        )
    if isinstance(value, Mapping):
        if "content" in value or "tool_calls" in value:
            return _message_body(value)
        return _block_text(value)
    return str(value)


def extract_event_io(event_name: str, properties: Mapping[str, Any] | None) -> tuple[Any, Any]:
    """The raw (input, output) an evaluation looks at for an event.

    `$ai_generation`: input = `$ai_input` or `$ai_input_state`; output = `$ai_output_choices` or
    `$ai_output` or `$ai_output_state` (first truthy, else ""). Other events: the `*_state` pair.
    """
    props = properties or {}
    if event_name == GENERATION_EVENT:
        return (
            props.get("$ai_input") or props.get("$ai_input_state") or "",
            props.get("$ai_output_choices") or props.get("$ai_output") or props.get("$ai_output_state") or "",
        )
    return props.get("$ai_input_state") or "", props.get("$ai_output_state") or ""


def hog_io_string(raw: Any) -> str:
    """The string a Hog evaluator sees: JSON (as Python's `json.dumps`) for lists/dicts, the value or "" otherwise."""
    if isinstance(raw, list | dict):
        return _json(raw)
    if not raw:
        return ""
    return raw if isinstance(raw, str) else str(raw)


def hog_io_strings(input_raw: Any, output_raw: Any) -> tuple[str, str]:
    """The Hog globals `input` and `output` for raw values from `extract_event_io`."""
    return hog_io_string(input_raw), hog_io_string(output_raw)


def text_preview(value: Any, limit: int = 200) -> str:
    """The first `limit` characters of the rendered text (as in test_hog's previews)."""
    return extract_text_from_messages(value)[:limit]
