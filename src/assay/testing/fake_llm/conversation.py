"""What the fake server reads from a request body, independent of the wire format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

SCHEMA_MARKER = "matches this schema:\n"


def content_text(content: Any) -> str:
    """Text of an OpenAI/Anthropic message content (a string or a list of parts/blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    parts.append(part["text"])
                elif part.get("type") == "tool_result":
                    parts.append(content_text(part.get("content")))
        return " ".join(parts)
    return ""


@dataclass(slots=True)
class Conversation:
    """The parts of a chat request that rules and replies depend on."""

    model: str
    messages: list[dict[str, Any]]
    system: str = ""
    last_user: str = ""
    after_tool: bool = False
    tool_result: str = ""
    tool_names: list[str] = field(default_factory=list)
    json_schema: dict[str, Any] | None = None
    json_requested: bool = False
    forced_tool: dict[str, Any] | None = None
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    """`max_tokens` (or `max_completion_tokens`) of the request."""
    prompt_tokens: int = 0
    format_ignored: bool = False
    """The server ignored the requested response format (the model answers free text)."""

    def schema_from_instruction(self) -> dict[str, Any] | None:
        """A JSON schema embedded in the system prompt by a client's no-json_schema fallback, if any."""
        at = self.system.find(SCHEMA_MARKER)
        if at < 0:
            return None
        try:
            value, _ = json.JSONDecoder().raw_decode(self.system[at + len(SCHEMA_MARKER) :].lstrip())
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def openai_conversation(body: dict[str, Any]) -> Conversation:
    """Read an OpenAI chat-completions body."""
    messages = body.get("messages") or []
    conv = Conversation(model=str(body.get("model", "")), messages=messages)
    systems = []
    for msg in messages:
        role = msg.get("role")
        if role in ("system", "developer"):
            systems.append(content_text(msg.get("content")))
        elif role == "user":
            conv.last_user = content_text(msg.get("content"))
    conv.system = "\n".join(systems)
    if messages and messages[-1].get("role") == "tool":
        conv.after_tool = True
        conv.tool_result = content_text(messages[-1].get("content"))
    conv.tool_names = [t.get("function", {}).get("name", "") for t in body.get("tools") or []]
    fmt = body.get("response_format")
    if isinstance(fmt, dict):
        if fmt.get("type") == "json_schema":
            conv.json_schema = (fmt.get("json_schema") or {}).get("schema") or {}
            conv.json_requested = True
        elif fmt.get("type") == "json_object":
            conv.json_requested = True
    conv.stream = bool(body.get("stream"))
    conv.include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    conv.max_tokens = _int_or_none(body.get("max_tokens", body.get("max_completion_tokens")))
    return conv


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def anthropic_conversation(body: dict[str, Any]) -> Conversation:
    """Read an Anthropic messages body."""
    messages = body.get("messages") or []
    conv = Conversation(model=str(body.get("model", "")), messages=messages)
    conv.system = content_text(body.get("system") or "")
    for msg in messages:
        if msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
            continue
        conv.last_user = content_text(content)
    if messages and messages[-1].get("role") == "user":
        content = messages[-1].get("content")
        if isinstance(content, list):
            results = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
            if results:
                conv.after_tool = True
                conv.tool_result = " ".join(content_text(b.get("content")) for b in results)
    tools = body.get("tools") or []
    conv.tool_names = [t.get("name", "") for t in tools]
    choice = body.get("tool_choice") or {}
    if choice.get("type") == "tool":
        conv.forced_tool = next((t for t in tools if t.get("name") == choice.get("name")), None)
        if conv.forced_tool is not None:
            conv.json_schema = conv.forced_tool.get("input_schema") or {}
            conv.json_requested = True
    conv.stream = bool(body.get("stream"))
    conv.max_tokens = _int_or_none(body.get("max_tokens"))
    return conv
