"""Decide what the fake model says: text, tool calls or JSON, plus token usage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from assay.testing.fake_llm.conversation import Conversation
from assay.testing.fake_llm.scenario import Rule, Scenario
from assay.testing.fake_llm.synth import synthesize


@dataclass(slots=True)
class Answer:
    """A model answer before it is put into a wire format."""

    text: str
    tool_calls: list[dict[str, Any]] | None
    prompt_tokens: int
    completion_tokens: int
    is_json: bool = False

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"


def estimate_tokens(messages: list[dict[str, Any]], system: str = "") -> int:
    """A cheap, deterministic token estimate: about four characters per token."""
    chars = len(system)
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif content is not None:
            chars += len(orjson.dumps(content))
    return chars // 4 + 3 * len(messages) + 1


def _json_text(value: Any, fence: bool) -> str:
    text = orjson.dumps(value).decode()
    return f"```json\n{text}\n```" if fence else text


def decide(conv: Conversation, rule: Rule | None, scenario: Scenario) -> Answer:
    """Build the answer for a conversation given the matching rule (or none)."""
    tool_calls = None
    is_json = False
    if conv.after_tool:
        text = rule.final_reply if rule and rule.final_reply is not None else f"Done. {conv.tool_result}".strip()
    elif rule is not None and rule.tool_calls and conv.tool_names and conv.forced_tool is None:
        text = rule.reply or ""
        tool_calls = rule.tool_calls
    elif rule is not None and rule.reply is not None:
        text = rule.reply
    else:
        schema = conv.json_schema if conv.json_schema is not None else conv.schema_from_instruction()
        overrides = rule.json_value if rule is not None else None
        fence = bool(rule and rule.fence_json)
        if schema is not None:
            text = _json_text(synthesize(schema, overrides), fence)
            is_json = True
        elif conv.json_requested or overrides is not None:
            text = _json_text(overrides if overrides is not None else {"result": conv.last_user}, fence)
            is_json = True
        else:
            text = scenario.default_reply if scenario.default_reply is not None else conv.last_user
    prompt_tokens = estimate_tokens(conv.messages, conv.system)
    completion_tokens = len(text) // 4 + 1 + (sum(len(str(c)) for c in tool_calls) // 4 if tool_calls else 0)
    if rule is not None and rule.usage:
        prompt_tokens = rule.usage.get("prompt_tokens", rule.usage.get("input_tokens", prompt_tokens))
        completion_tokens = rule.usage.get("completion_tokens", rule.usage.get("output_tokens", completion_tokens))
    return Answer(text, tool_calls, prompt_tokens, completion_tokens, is_json)


def malform(answer: Answer, mode: str) -> bool:
    """Corrupt the answer's content in place; False means the HTTP body should be truncated instead."""
    if mode == "truncated" or (mode == "auto" and not answer.is_json):
        return False
    if mode == "schema_violation":
        answer.text = '{"unexpected": "field"}'
    else:
        answer.text = answer.text[: max(1, len(answer.text) // 2)]
    answer.tool_calls = None
    return True
