"""The fake server's answers in conversations: rules for the n-th user turn, tool calls per loop step, a loop
that never ends (answered in-process through `decide`, as the server answers them)."""

from __future__ import annotations

from typing import Any

from assay.testing.fake_llm.agent_loop import tool_step, turn_matches, user_turn
from assay.testing.fake_llm.answer import decide
from assay.testing.fake_llm.conversation import openai_conversation
from assay.testing.fake_llm.scenario import Rule, Scenario

TOOLS = [{"type": "function", "function": {"name": "lookup"}}]
CALL = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "function": {"name": "lookup"}}]}
RESULT = {"role": "tool", "tool_call_id": "c1", "content": "shipped"}


def body(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "messages": list(messages), "tools": TOOLS}


def test_turn_rules_and_steps_are_counted_from_the_messages() -> None:
    first = openai_conversation(body({"role": "user", "content": "hi"}))
    later = openai_conversation(
        body(
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "yo"},
            {"role": "user", "content": "hi"},
            CALL,
            RESULT,
        )
    )
    assert (user_turn(first), tool_step(first)) == (1, 0) and (user_turn(later), tool_step(later)) == (2, 1)
    second = Rule(contains="hi", turn=2, reply="again?")
    assert not turn_matches(second, first) and turn_matches(second, later)


def test_tool_steps_then_the_final_reply_and_an_endless_loop() -> None:
    steps = Rule(
        contains="track",
        tool_steps=[[{"name": "lookup", "arguments": {"id": 1}}], [{"name": "lookup", "arguments": {"id": 2}}]],
        final_reply="All done.",
    )
    user = {"role": "user", "content": "track it"}
    answers = [
        decide(openai_conversation(body(*messages)), steps, Scenario())
        for messages in ([user], [user, CALL, RESULT], [user, CALL, RESULT, CALL, RESULT])
    ]
    assert [a.tool_calls[0]["arguments"]["id"] for a in answers[:2]] == [1, 2]  # type: ignore[index]
    assert answers[2].tool_calls is None and answers[2].text == "All done."
    endless = Rule(contains="track", tool_calls=[{"name": "lookup", "arguments": {}}], loop_tools=True)
    deep = [user, *[CALL, RESULT] * 5]
    assert decide(openai_conversation(body(*deep)), endless, Scenario()).tool_calls == endless.tool_calls
    no_tools = openai_conversation({"model": "m", "messages": [user]})
    assert decide(no_tools, endless, Scenario()).tool_calls is None  # tools are only called when offered
