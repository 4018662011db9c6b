from __future__ import annotations

import pytest

from assay.domain.outcomes import ToolCall
from assay.providers import ProviderRegistry, RetryPolicy
from assay.targets import InstanceError, call_instance, parse_spec
from assay.targets.call import endpoint_config
from assay.testing.fake_llm import FakeLLMServer

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, timeout=10)
KEY = "sk-instance-key-0123456789"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def chat_spec(fake: FakeLLMServer, **kw):
    return parse_spec({"kind": "openai_chat", "base_url": fake.base_url, "model": "fake-model", **kw})


async def test_text_answer_tokens_and_request_shape(fake: FakeLLMServer, providers: ProviderRegistry) -> None:
    fake.set_scenario(
        {"rules": [{"contains": "hello", "reply": "Hi there!", "usage": {"prompt_tokens": 12, "completion_tokens": 3}}]}
    )
    spec = chat_spec(
        fake,
        system_prompt="You are terse.",
        api_key=KEY,
        parameters={"temperature": 0.3, "max_tokens": 64, "seed": 5},
    )
    reply = await call_instance(spec, "hello bot", {"tags": ["x"]}, retry=FAST, providers=providers)
    assert (reply.text, reply.tool_calls, reply.tokens, reply.attempts) == ("Hi there!", [], 15, 1)
    assert reply.latency_ms > 0
    [logged] = fake.requests()
    assert logged["system"] == "You are terse." and logged["last_user"] == "hello bot"
    assert (logged["model"], logged["temperature"], logged["tools"]) == ("fake-model", 0.3, [])


async def test_tool_calls_parsed_with_dict_arguments(fake: FakeLLMServer, providers: ProviderRegistry) -> None:
    fake.set_scenario(
        {"rules": [{"contains": "weather", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}]}
    )
    reply = await call_instance(chat_spec(fake, tools=TOOLS), "weather in Oslo?", {}, retry=FAST, providers=providers)
    assert reply.tool_calls == [ToolCall("get_weather", {"city": "Oslo"})]
    assert isinstance(reply.tool_calls[0].arguments, dict) and reply.tokens and reply.tokens > 0
    assert fake.requests()[-1]["tools"] == ["get_weather"]


async def test_latency_is_measured(fake: FakeLLMServer, providers: ProviderRegistry) -> None:
    fake.set_scenario({"latency_ms": 120})
    reply = await call_instance(chat_spec(fake), "echo me", {}, retry=FAST, providers=providers)
    assert reply.text == "echo me" and 110 <= reply.latency_ms < 2000


async def test_shares_the_provider_registry(fake: FakeLLMServer, providers: ProviderRegistry) -> None:
    spec = chat_spec(fake, api_key=KEY, max_concurrency=3)
    await call_instance(spec, "a", {}, retry=FAST, providers=providers)
    await call_instance(spec, "b", {}, retry=FAST, providers=providers)
    endpoint = endpoint_config(spec)
    assert providers.adapter(endpoint) is providers.adapter(endpoint_config(chat_spec(fake, api_key=KEY)))
    assert providers.limiter(endpoint).current_limit == 3


async def test_retries_server_errors(fake: FakeLLMServer, providers: ProviderRegistry) -> None:
    fake.set_scenario({"rules": [{"status": 500, "times": 2}]})
    reply = await call_instance(chat_spec(fake), "again", {}, retry=FAST, providers=providers)
    assert reply.text == "again" and reply.attempts == 3


async def test_errors_are_instance_errors_without_the_key(fake: FakeLLMServer, providers: ProviderRegistry) -> None:
    fake.set_scenario({"api_key": "the-right-key"})
    spec = chat_spec(fake, api_key=KEY)
    with pytest.raises(InstanceError) as info:
        await call_instance(spec, "hi", {}, retry=FAST, providers=providers)
    assert info.value.kind == "auth" and info.value.status_code == 401 and info.value.attempts == 1
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    fake.set_scenario({"rules": [{"status": 404, "error_message": f"model not found for key {KEY}"}]})
    with pytest.raises(InstanceError) as info:
        await call_instance(spec, "hi", {}, retry=FAST, providers=providers)
    assert info.value.kind == "not_found" and "model not found" in str(info.value)
    assert KEY not in str(info.value) and KEY[:8] not in str(info.value)


async def test_timeout(fake: FakeLLMServer, providers: ProviderRegistry) -> None:
    fake.set_scenario({"latency_ms": 1500})
    spec = chat_spec(fake, timeout_s=0.2)
    with pytest.raises(InstanceError) as info:
        await call_instance(spec, "slow", {}, retry=RetryPolicy(max_attempts=1, timeout=0.2), providers=providers)
    assert info.value.kind == "timeout"


async def test_default_policy_uses_spec_timeout(fake: FakeLLMServer, providers: ProviderRegistry) -> None:
    fake.set_scenario({"rules": [{"latency_ms": 1500, "times": 1}]})
    spec = chat_spec(fake, timeout_s=0.3)
    reply = await call_instance(spec, "first slow then fast", {}, providers=providers)
    assert reply.attempts == 2 and reply.text == "first slow then fast"
