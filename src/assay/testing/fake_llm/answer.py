"""Decide what the fake model says: text, tool calls or JSON, plus token usage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from assay.testing.fake_llm.agent_loop import loop_tool_calls
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
    truncated: bool = False
    """Cut off at `max_tokens` or the context limit."""

    @property
    def finish_reason(self) -> str:
        if self.truncated:
            return "length"
        return "tool_calls" if self.tool_calls else "stop"


RAMBLE = (
    "Let me think about this a little more, because evaluation is subtle and there are many aspects to consider, "
    "such as tone, accuracy, helpfulness and whether the criteria even apply here. "
)


def _prose(value: Any) -> str:
    """What a model says when the server ignored the JSON format it was asked for."""
    if isinstance(value, dict):
        parts = [f"{k.replace('_', ' ')} is {v}" for k, v in value.items()]
        return "Here is my evaluation. " + "; ".join(parts) + "."
    return f"Here is my evaluation: {value}."


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
    looped = loop_tool_calls(rule, conv)
    if looped is not None:
        text = (rule.reply if rule is not None else None) or ""
        tool_calls = looped
    elif conv.after_tool:
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
        if conv.format_ignored and overrides is not None:
            text = _prose(overrides)
        elif schema is not None:
            text = _json_text(synthesize(schema, overrides), fence)
            is_json = True
        elif conv.json_requested or overrides is not None:
            text = _json_text(overrides if overrides is not None else {"result": conv.last_user}, fence)
            is_json = True
        else:
            text = scenario.default_reply if scenario.default_reply is not None else conv.last_user
    prompt_tokens = estimate_tokens(conv.messages, conv.system)
    constrained = conv.json_schema is not None or conv.json_requested
    truncated = False
    budget = 0
    if scenario.ramble and not constrained and not tool_calls:
        # a small model with nothing holding it to the format: prose, the answer, then on until it is stopped
        budget = max(1, scenario.context_tokens - prompt_tokens)
        if conv.max_tokens is not None:
            budget = min(budget, conv.max_tokens)
        text = "Sure! Here is my evaluation.\n\n" + text + "\n\n"
        text = (text + RAMBLE * (budget * 4 // len(RAMBLE) + 1))[: budget * 4]
        truncated = True
    completion_tokens = len(text) // 4 + 1 + (sum(len(str(c)) for c in tool_calls) // 4 if tool_calls else 0)
    if budget:
        completion_tokens = budget
    if conv.max_tokens is not None and completion_tokens > conv.max_tokens:
        text = text[: conv.max_tokens * 4]
        completion_tokens = conv.max_tokens
        truncated = True
    if rule is not None and rule.usage:
        prompt_tokens = rule.usage.get("prompt_tokens", rule.usage.get("input_tokens", prompt_tokens))
        completion_tokens = rule.usage.get("completion_tokens", rule.usage.get("output_tokens", completion_tokens))
    return Answer(text, tool_calls, prompt_tokens, completion_tokens, is_json, truncated)


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
