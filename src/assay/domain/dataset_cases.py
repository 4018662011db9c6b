"""Test cases from LLM-analytics dataset items: one case per item with a usable input.

An item's `input` becomes the input message (a list of chat messages: the last user message, or all of them
as text); `output` becomes the expected behaviour; `metadata` may carry `name`, `expected_behavior`,
`expected_tool_calls` and `tags`, which take precedence.
"""

from __future__ import annotations

from typing import Any

import orjson

from assay.domain.messages import content_text, extract_text_from_messages


def as_text(value: Any) -> str:
    """An item's input or output as text: a message list's last user message (or all of it), a dict's text field,
    else its JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        users = [m for m in value if isinstance(m, dict) and m.get("role") == "user"]
        if users:
            return content_text(users[-1].get("content"))
        return extract_text_from_messages(value)
    if isinstance(value, dict):
        for key in ("input", "message", "content", "text", "question"):
            found = value.get(key)
            if isinstance(found, str):
                return found
    return orjson.dumps(value).decode()


def case_from_item(item: dict[str, Any]) -> dict[str, Any] | None:
    """A suite-file case from a dataset item (its API shape), or None when it has no usable input."""
    raw_metadata = item.get("metadata")
    metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
    text = as_text(item.get("input")).strip()
    if not text:
        return None
    expected = metadata.get("expected_behavior")
    if expected is None and item.get("output") not in (None, ""):
        expected = as_text(item.get("output"))
    tags = metadata.get("tags")
    return {
        "input": text,
        "name": str(metadata.get("name") or item["id"]),
        "expected_behavior": expected,
        "expected_tool_calls": metadata.get("expected_tool_calls") or None,
        "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
    }
