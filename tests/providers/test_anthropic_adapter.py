from __future__ import annotations

import pytest

from assay.domain.outcomes import ToolCall
from assay.providers import (
    AuthenticationError,
    ChatRequest,
    EndpointConfig,
    ProviderRegistry,
    RateLimitError,
    ResponseFormat,
    RetryPolicy,
)
from assay.testing.fake_llm import FakeLLMServer

TOOLS = [{"type": "function", "function": {"name": "lookup", "description": "Find", "parameters": {"type": "object"}}}]


def endpoint(fake: FakeLLMServer, key: str = "ak-secret") -> EndpointConfig:
    return EndpointConfig(model="claude-test", provider="anthropic", base_url=fake.base_url, api_key=key)


async def test_text_system_and_usage(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario(
        {
            "api_key": "ak-secret",
            "rules": [{"contains": "hi", "reply": "hey", "usage": {"input_tokens": 9, "output_tokens": 2}}],
        }
    )
    messages = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}]
    result = await registry.chat(endpoint(fake), ChatRequest(messages=messages, temperature=0))
    assert (result.text, result.input_tokens, result.output_tokens, result.finish_reason) == ("hey", 9, 2, "stop")
    entry = fake.requests()[0]
    assert entry["path"] == "/v1/messages" and entry["system"] == "Be terse." and entry["temperature"] == 0


async def test_tool_use_round_trip(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario(
        {
            "rules": [
                {
                    "contains": "find",
                    "tool_calls": [{"name": "lookup", "arguments": {"q": "x"}}],
                    "final_reply": "Found.",
                }
            ]
        }
    )
    messages = [{"role": "user", "content": "find x"}]
    first = await registry.chat(endpoint(fake), ChatRequest(messages=messages, tools=TOOLS, tool_choice="required"))
    assert first.tool_calls == [ToolCall("lookup", {"q": "x"})] and first.finish_reason == "tool_calls"
    assert fake.requests()[0]["tool_choice"] == {"type": "any"}
    call_id = first.message["tool_calls"][0]["id"]
    messages += [first.message, {"role": "tool", "tool_call_id": call_id, "content": "result"}]
    second = await registry.chat(endpoint(fake), ChatRequest(messages=messages, tools=TOOLS))
    assert second.text == "Found."
    sent = fake.requests()[1]["messages"]
    assert sent[1]["content"][0]["type"] == "tool_use"
    assert sent[2]["content"][0] == {"type": "tool_result", "tool_use_id": call_id, "content": "result"}


async def test_structured_output_via_forced_tool(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    schema = {"type": "object", "properties": {"verdict": {"type": "boolean"}}, "required": ["verdict"]}
    fake.set_scenario({"rules": [{"json": {"verdict": False}}]})
    result = await registry.chat(
        endpoint(fake),
        ChatRequest(messages=[{"role": "user", "content": "j"}], response_format=ResponseFormat("Out", schema)),
    )
    assert result.parsed == {"verdict": False} and result.tool_calls == []
    assert fake.requests()[0]["tool_choice"] == {"type": "tool", "name": "Out"}


async def test_errors_mapped_and_scrubbed(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario(
        {"api_key": "ak-right", "rules": [{"contains": "busy", "faults": {"rate_429": 1, "retry_after_s": 0}}]}
    )
    with pytest.raises(AuthenticationError) as info:
        await registry.chat(
            endpoint(fake, "ak-wrong-secret-123456"), ChatRequest(messages=[{"role": "user", "content": "x"}])
        )
    assert "ak-wrong-secret-123456" not in str(info.value)
    with pytest.raises(RateLimitError):
        await registry.chat(
            endpoint(fake, "ak-right"),
            ChatRequest(messages=[{"role": "user", "content": "busy"}]),
            retry=RetryPolicy(max_attempts=2, base_delay=0.01),
        )
    assert [e["status"] for e in fake.requests()][-2:] == [429, 429]
