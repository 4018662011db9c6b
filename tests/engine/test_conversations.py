"""Conversation cases through HTTP against the fake LLM server: scripted turns, tool mocks and the agent loop,
simulated users and their stop rules, conversation evaluators, transcripts stored and returned; an `http`
instance gets the history through `{{messages}}`."""

from __future__ import annotations

import uuid
from typing import Any

from assay.domain.runs import CaseSpec
from assay.engine.runs.conversation import run_conversation
from assay.targets import parse_spec
from tests.engine.conftest import AGENT_MODEL, JUDGE_MODEL, create_instance, create_suite, wait_for_task


def _tool(name: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}},
    }


AGENT = {"model": AGENT_MODEL}
SIM = {"model": JUDGE_MODEL, "target": "any"}

RULES: list[dict[str, Any]] = [
    # the agent
    {**AGENT, "contains": "what is my name", "reply": "Your name is Ada."},
    {**AGENT, "contains": "my name is Ada", "reply": "Nice to meet you, Ada."},
    {
        **AGENT,
        "contains": "track order A1",
        "tool_steps": [
            [{"name": "lookup_order", "arguments": {"order_id": "A1"}}],
            [{"name": "lookup_order", "arguments": {"order_id": "A1", "fresh": True}}],
        ],
        "final_reply": "Order A1 is shipped.",
    },
    {**AGENT, "contains": "loop forever", "tool_calls": [{"name": "ping", "arguments": {}}], "loop_tools": True},
    {**AGENT, "contains": "refund B2", "tool_calls": [{"name": "refund", "arguments": {"order_id": "B2"}}]},
    {**AGENT, "contains": "Is order A1 shipped?", "reply": "Order A1 is shipped."},
    {**AGENT, "contains": "a person", "tool_calls": [{"name": "handoff_to_human", "arguments": {}}], "reply": "OK"},
    # the simulated user (it plays with the judge model)
    {**SIM, "contains": "Assistant: Order A1 is shipped.", "json": {"goal_met": True, "message": ""}},
    {**SIM, "contains": "status of order A1", "json": {"goal_met": False, "message": "Is order A1 shipped?"}},
    {**SIM, "contains": "impossible goal", "json": {"goal_met": False, "message": "Get me a person, please."}},
    {**SIM, "contains": "never satisfied", "json": {"goal_met": False, "message": "Anything else?"}},
    # the judge
    {**SIM, "contains": "retained", "json": {"verdict": True, "reasoning": "It remembered the name."}},
]

CASES: list[dict[str, Any]] = [
    {
        "input_message": "hello",
        "messages": [{"role": "system", "content": "You are terse."}, {"role": "assistant", "content": "Hi!"}],
        "user_turns": ["my name is Ada", "what is my name?"],
    },
    {
        "input_message": "track order A1",
        "tool_mocks": [
            {"tool": "lookup_order", "arguments": {"fresh": True}, "result": {"status": "shipped", "fresh": True}},
            {"tool": "lookup_order", "result": "status: shipped"},
        ],
        "expected_tool_calls": [{"name": "lookup_order", "arguments": {"order_id": "A1"}}],
    },
    {"input_message": "loop forever", "tool_mocks": [{"tool": "ping", "result": "pong"}], "max_steps": 3},
    {"input_message": "refund B2", "tool_mocks": [{"tool": "lookup_order", "result": "{}"}]},
    {"input_message": "hi", "simulated_user": {"goal": "learn the status of order A1", "max_turns": 4, "seed": 7}},
    {"input_message": "hi", "simulated_user": {"goal": "never satisfied", "max_turns": 2}},
    {"input_message": "hi", "simulated_user": {"goal": "an impossible goal", "max_turns": 5}},
    {"input_message": "plain question"},
]

RECIPE = {
    "name": "conversations",
    "pass_threshold": 50,
    "items": [
        {"evaluator": {"type": "trajectory", "order": "in_order"}},
        {"evaluator": {"type": "per_turn", "check": {"type": "not_contains", "value": "ERROR"}}},
        {"evaluator": {"type": "conversation_metrics", "max_turns": 3}},
        {"evaluator": {"type": "llm_judge", "rubric": "knowledge_retention"}},
    ],
}


async def test_conversation_cases_run_and_keep_their_transcripts(engine_client, tenant, fake):
    fake.set_scenario({"rules": RULES})
    instance_id = await create_instance(engine_client, tenant, fake, tools=[_tool("lookup_order"), _tool("ping")])
    r = await engine_client.post("/v1/recipes", json=RECIPE, headers=tenant.headers)
    assert r.status_code == 201, r.text
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id, recipe_id=r.json()["id"], cases=CASES)
    listed = (await engine_client.get(f"/v1/evaluations/{suite_id}/test-cases", headers=tenant.headers)).json()
    assert listed[0]["user_turns"] == ["my name is Ada", "what is my name?"] and listed[0]["messages"][1] == {
        "role": "assistant",
        "content": "Hi!",
    }
    assert listed[2]["max_steps"] == 3 and listed[1]["tool_mocks"][1] == {
        "tool": "lookup_order",
        "result": "status: shipped",
    }
    assert listed[4]["simulated_user"]["goal"] == "learn the status of order A1"
    assert listed[7]["messages"] is None and listed[7]["simulated_user"] is None

    r = await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)
    task = await wait_for_task(engine_client, tenant, r.json()["task_id"])
    assert task["status"] == "completed", task
    results = (await engine_client.get(f"/v1/evaluations/{suite_id}/results", headers=tenant.headers)).json()
    by_case = {c["id"]: n for n, c in enumerate(listed)}
    res = {by_case[x["test_case_id"]]: x for x in results}

    # scripted turns: each reply captured, history sent every time, the last reply is agent_response
    multi = res[0]
    turns = multi["transcript"]["turns"]
    assert [t["user"] for t in turns] == ["hello", "my name is Ada", "what is my name?"]
    assert [t["assistant"] for t in turns] == ["hello", "Nice to meet you, Ada.", "Your name is Ada."]
    assert [t["source"] for t in turns] == ["input", "scripted", "scripted"]
    assert all(t["steps"] == 1 and t["tokens"] > 0 and t["latency_ms"] >= 0 for t in turns)
    assert multi["agent_response"] == "Your name is Ada." and multi["tool_calls_made"] == []
    assert multi["tokens_used"] == sum(t["tokens"] for t in turns)
    assert multi["transcript"]["prior_messages"] == 2 and multi["transcript"]["metrics"]["turns"] == 3
    last_call = next(e for e in fake.requests() if e["model"] == AGENT_MODEL and e["last_user"] == "what is my name?")
    assert [m["role"] for m in last_call["messages"]] == [
        "system",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert last_call["messages"][0]["content"] == "You are terse."  # the case's system message replaces the instance's
    judged = next(e for e in fake.requests() if "retained" in e["last_user"] and "my name is Ada" in e["last_user"])
    assert "assistant: Your name is Ada." in judged["last_user"]
    assert multi["status"] == "passed", multi["score_reason"]

    # tool mocks: model -> call -> mocked result -> model; argument match first, then the tool's default
    tools = res[1]
    calls = tools["transcript"]["turns"][0]["tool_calls"]
    assert [c["result"] for c in calls] == ["status: shipped", {"status": "shipped", "fresh": True}]
    assert all(c["mocked"] and c["id"] for c in calls) and tools["transcript"]["turns"][0]["steps"] == 3
    assert tools["agent_response"] == "Order A1 is shipped."
    assert tools["tool_calls_made"] == [
        {"name": "lookup_order", "arguments": {"order_id": "A1"}},
        {"name": "lookup_order", "arguments": {"order_id": "A1", "fresh": True}},
    ]
    tool_msgs = [m for m in tools["transcript"]["messages"] if m["role"] == "tool"]
    assert tool_msgs[0]["tool_call_id"] == calls[0]["id"] and tool_msgs[0]["content"] == "status: shipped"
    trajectory = next(v for v in tools["evaluator_results"] if v["evaluator"] == "trajectory")
    assert trajectory["status"] == "passed" and tools["status"] == "passed"

    # the step limit and an unmocked tool end the case with a clear error, transcript kept
    loop = res[2]
    assert loop["status"] == "error" and "max_steps 3" in loop["error"]
    assert loop["transcript"]["stop_reason"] == "step_limit" and loop["transcript"]["turns"][0]["steps"] == 3
    assert sum(1 for e in fake.requests() if e["last_user"] == "loop forever") == 3
    unmocked = res[3]
    assert unmocked["status"] == "error" and unmocked["transcript"]["stop_reason"] == "unmocked_tool"
    assert 'refund({"order_id":"B2"})' in unmocked["error"] and "mocked tools: lookup_order" in unmocked["error"]

    # simulated users: goal met, turn limit, hand-off; the simulator's answers recorded
    goal = res[4]["transcript"]
    assert goal["stop_reason"] == "goal_met" and [t["source"] for t in goal["turns"]] == ["input", "simulated"]
    assert goal["turns"][1]["user"] == "Is order A1 shipped?" and res[4]["agent_response"] == "Order A1 is shipped."
    assert goal["metrics"]["goal_met"] is True and goal["metrics"]["turns_to_goal"] == 2
    assert goal["metrics"]["steps_to_goal"] == 2
    sim = goal["simulator"]
    assert (
        sim["goal"] == "learn the status of order A1" and sim["seed"] == 7 and sim["model"] == f"openai/{JUDGE_MODEL}"
    )
    assert [a["goal_met"] for a in sim["answers"]] == [False, True]
    sim_calls = [e for e in fake.requests() if e["model"] == JUDGE_MODEL and "status of order A1" in e["system"]]
    assert len(sim_calls) == 2 and all(e["temperature"] == 0 for e in sim_calls)
    limit = res[5]["transcript"]
    assert limit["stop_reason"] == "turn_limit" and len(limit["turns"]) == 2
    assert limit["metrics"]["goal_met"] is False and limit["simulator"]["stopped"] == "turn_limit"
    handoff = res[6]
    assert handoff["transcript"]["stop_reason"] == "handoff" and len(handoff["transcript"]["turns"]) == 2
    assert handoff["tool_calls_made"] == [{"name": "handoff_to_human", "arguments": {}}]

    plain = res[7]
    assert plain["transcript"] is None and plain["agent_response"] == "plain question"


async def test_conversation_fields_are_validated(client, env_a, fake):  # noqa: ANN001
    engine_client, tenant = client, env_a
    instance_id = await create_instance(engine_client, tenant, fake)
    suite_id = await create_suite(engine_client, tenant, instance_id=instance_id)
    url = f"/v1/evaluations/{suite_id}/test-cases"
    bad = [
        {"user_turns": ["a"], "simulated_user": {"goal": "g"}},
        {"messages": [{"role": "tool", "content": "x"}]},
        {"messages": [{"role": "robot", "content": "x"}]},
        {"simulated_user": {"goal": ""}},
        {"simulated_user": {"goal": "g", "stop_on": ["bored"]}},
        {"tool_mocks": [{"tool": "", "result": 1}]},
        {"max_steps": 0},
        {"user_turns": ["  "]},
    ]
    for fields in bad:
        r = await engine_client.post(url, json={"input_message": "hi", **fields}, headers=tenant.headers)
        assert r.status_code == 422, (fields, r.text)
    r = await engine_client.post(
        "/v1/recipes",
        json={"name": "r", "items": [{"evaluator": {"type": "per_turn", "check": {"type": "llm_judge"}}}]},
        headers=tenant.headers,
    )
    assert r.status_code in (400, 422) and "built-in check" in r.text


HTTP_TOOLS = [{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}]


async def test_http_instance_gets_the_history_and_loops_through_tools(fake, registry) -> None:  # noqa: ANN001
    fake.set_scenario(
        {"rules": [{"contains": "track A1", "tool_calls": [{"name": "lookup_order", "arguments": {"order_id": "A1"}}]}]}
    )
    spec = parse_spec(
        {
            "kind": "http",
            "url": f"{fake.base_url}/chat/completions",
            "body_template": {"model": "agent-model", "messages": "{{messages}}", "tools": HTTP_TOOLS},
            "response": {"text": "$.choices[0].message.content", "tool_calls": "$.choices[0].message.tool_calls"},
        }
    )
    case = CaseSpec(
        id=str(uuid.uuid4()),
        input_message="hello",
        conversation={"user_turns": ["track A1"], "tool_mocks": [{"tool": "lookup_order", "result": "shipped"}]},
    )
    transcript = await run_conversation(case, spec, registry=registry, secret_key="")
    assert transcript.error is None and [t.assistant for t in transcript.turns] == ["hello", "Done. shipped"]
    assert transcript.turns[1].steps == 2 and transcript.turns[1].tool_calls[0]["id"] == "call_1_1_0"
    last = fake.requests()[-1]["messages"]
    assert [m["role"] for m in last] == ["user", "assistant", "user", "assistant", "tool"]
    assert last[3]["tool_calls"][0]["id"] == last[4]["tool_call_id"] == "call_1_1_0"
    assert last[4]["content"] == "shipped"
