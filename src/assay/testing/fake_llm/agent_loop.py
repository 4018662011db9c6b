"""Multi-turn conversations and tool loops, answered deterministically.

A rule's `turn` makes it match only the n-th user turn of a conversation (1-based, counting the user messages
of the request). Its `tool_steps` give the tool calls of each step of an agent loop: step 0 answers the user
message, step k the k-th round of tool results since it; once the steps run out, the rule's `final_reply`
(or `Done.` and the last tool output) ends the turn. `loop_tools` makes a rule repeat its `tool_calls` after
every tool result: an agent that never stops calling tools, for step limits.
"""

from __future__ import annotations

from typing import Any

from assay.testing.fake_llm.conversation import Conversation
from assay.testing.fake_llm.scenario import Rule


def user_turn(conv: Conversation) -> int:
    """How many user messages the request holds (the turn being answered, 1-based)."""
    return sum(1 for m in conv.messages if isinstance(m, dict) and m.get("role") == "user")


def tool_step(conv: Conversation) -> int:
    """How many assistant messages with tool calls follow the last user message."""
    step = 0
    for message in reversed(conv.messages):
        if not isinstance(message, dict):
            continue
        if message.get("role") == "user":
            break
        if message.get("role") == "assistant" and message.get("tool_calls"):
            step += 1
    return step


def turn_matches(rule: Rule, conv: Conversation) -> bool:
    """Whether the rule applies to this turn of the conversation (always, without `turn`)."""
    return rule.turn is None or rule.turn == user_turn(conv)


def loop_tool_calls(rule: Rule | None, conv: Conversation) -> list[dict[str, Any]] | None:
    """The tool calls of this step of the agent loop, or None when the rule makes none here."""
    if rule is None or not conv.tool_names or conv.forced_tool is not None:
        return None
    if rule.tool_steps is not None:
        step = tool_step(conv)
        return rule.tool_steps[step] if step < len(rule.tool_steps) and rule.tool_steps[step] else None
    if rule.loop_tools and rule.tool_calls:
        return rule.tool_calls
    return None
