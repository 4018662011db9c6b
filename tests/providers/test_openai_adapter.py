from __future__ import annotations

import time

import pytest

from assay.domain.outcomes import ToolCall
from assay.providers import (
    AuthenticationError,
    ChatRequest,
    EndpointConfig,
    ModelNotFoundError,
    ParseError,
    ProviderConnectionError,
    ProviderRegistry,
    ProviderTimeoutError,
    QuotaExceededError,
    RateLimitError,
    ResponseFormat,
    RetryPolicy,
    ServerError,
)
from assay.testing.fake_llm import FakeLLMServer, free_port

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, timeout=10)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
SCHEMA = {
    "type": "object",
    "properties": {"verdict": {"type": "boolean"}, "reasoning": {"type": "string"}},
    "required": ["verdict", "reasoning"],
    "additionalProperties": False,
}


def endpoint(fake: FakeLLMServer, **kw) -> EndpointConfig:
    return EndpointConfig(
        model=kw.pop("model", "fake-model"), base_url=fake.base_url, api_key=kw.pop("api_key", "sk-test"), **kw
    )


def ask(text: str, **kw) -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": text}], **kw)


async def test_text_usage_and_latency(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario(
        {"rules": [{"contains": "hi", "reply": "hello!", "usage": {"prompt_tokens": 11, "completion_tokens": 4}}]}
    )
    result = await registry.chat(endpoint(fake), ask("hi", temperature=0.2, max_tokens=30, extra={"seed": 1}))
    assert result.text == "hello!" and result.finish_reason == "stop"
    assert (result.input_tokens, result.output_tokens, result.total_tokens) == (11, 4, 15)
    assert result.latency_ms > 0 and result.attempts == 1 and result.tool_calls == []
    entry = fake.requests()[0]
    assert entry["temperature"] == 0.2 and entry["model"] == "fake-model"


async def test_tool_calls_parsed_and_conversation_continues(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario(
        {
            "rules": [
                {
                    "contains": "weather",
                    "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}],
                    "final_reply": "Cold.",
                }
            ]
        }
    )
    messages = [{"role": "user", "content": "weather in Oslo?"}]
    first = await registry.chat(endpoint(fake), ChatRequest(messages=messages, tools=TOOLS, tool_choice="auto"))
    assert first.finish_reason == "tool_calls"
    assert first.tool_calls == [ToolCall(name="get_weather", arguments={"city": "Oslo"})]
    call_id = first.message["tool_calls"][0]["id"]
    messages += [first.message, {"role": "tool", "tool_call_id": call_id, "content": "-5C"}]
    second = await registry.chat(endpoint(fake), ChatRequest(messages=messages, tools=TOOLS))
    assert second.text == "Cold." and second.tool_calls == []


async def test_json_schema_output_parsed(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"rules": [{"contains": "judge", "json": {"verdict": False, "reasoning": "no"}}]})
    result = await registry.chat(endpoint(fake), ask("judge this", response_format=ResponseFormat("Out", SCHEMA)))
    assert result.parsed == {"verdict": False, "reasoning": "no"}
    sent = fake.requests()[0]["response_format"]
    assert sent == {"type": "json_schema", "json_schema": {"name": "Out", "schema": SCHEMA, "strict": True}}
    json_object = await registry.chat(endpoint(fake), ask("x", response_format=ResponseFormat(schema=None)))
    assert json_object.parsed == {"result": "x"}


async def test_429_retry_after_is_honoured(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"rules": [{"contains": "slow", "times": 1, "faults": {"rate_429": 1.0, "retry_after_s": 1}}]})
    started = time.monotonic()
    result = await registry.chat(endpoint(fake), ask("slow down"), retry=FAST)
    elapsed = time.monotonic() - started
    assert result.attempts == 2 and elapsed >= 1.0
    assert [e["status"] for e in fake.requests()] == [429, 200]


async def test_retry_after_too_long_fails_fast(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"faults": {"rate_429": 1.0, "retry_after_s": 60}})
    started = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        await registry.chat(endpoint(fake), ask("x"), retry=RetryPolicy(max_retry_after=5, base_delay=0.01))
    assert info.value.retry_after == 60 and info.value.retryable and info.value.status_code == 429
    assert time.monotonic() - started < 30  # far below the 60 s Retry-After it refused to wait for


async def test_500_retried_then_succeeds(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"rules": [{"contains": "flaky", "status": 500, "times": 2}]})
    result = await registry.chat(endpoint(fake), ask("flaky"), retry=FAST)
    assert result.attempts == 3 and result.text == "flaky"
    assert [e["status"] for e in fake.requests()] == [500, 500, 200]


async def test_server_error_after_max_attempts(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"faults": {"rate_500": 1.0}})
    with pytest.raises(ServerError) as info:
        await registry.chat(endpoint(fake), ask("x"), retry=RetryPolicy(max_attempts=3, base_delay=0.01))
    assert info.value.kind == "server_error" and info.value.attempts == 3
    assert len(fake.requests()) == 3


async def test_timeout_per_attempt(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"faults": {"rate_timeout": 1.0, "timeout_s": 5}})
    started = time.monotonic()
    with pytest.raises(ProviderTimeoutError) as info:
        await registry.chat(endpoint(fake), ask("x"), retry=RetryPolicy(max_attempts=2, base_delay=0.01, timeout=0.3))
    elapsed = time.monotonic() - started
    assert info.value.kind == "timeout" and info.value.attempts == 2
    assert 0.6 <= elapsed < 3


async def test_malformed_json_is_parse_error_after_retries(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"faults": {"rate_malformed": 1.0, "malformed_mode": "invalid_json"}})
    with pytest.raises(ParseError):
        await registry.chat(endpoint(fake), ask("x", response_format=ResponseFormat("Out", SCHEMA)), retry=FAST)
    assert len(fake.requests()) == 4
    fake.set_scenario({"faults": {"rate_malformed": 1.0, "malformed_mode": "schema_violation"}})
    with pytest.raises(ParseError, match="schema"):
        await registry.chat(endpoint(fake), ask("x", response_format=ResponseFormat("Out", SCHEMA)), retry=FAST)
    fake.set_scenario({"faults": {"rate_malformed": 1.0, "malformed_mode": "truncated"}})
    with pytest.raises(ParseError, match="unreadable"):
        await registry.chat(endpoint(fake), ask("x"), retry=RetryPolicy(max_attempts=1))


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ({"status": 401}, AuthenticationError),
        ({"status": 404}, ModelNotFoundError),
        ({"status": 429, "error_code": "insufficient_quota"}, QuotaExceededError),
    ],
)
async def test_non_retryable_errors(fake: FakeLLMServer, registry: ProviderRegistry, rule: dict, error: type) -> None:
    fake.set_scenario({"rules": [rule]})
    with pytest.raises(error) as info:
        await registry.chat(endpoint(fake), ask("x"), retry=FAST)
    assert not info.value.retryable and info.value.status_code == rule["status"]
    assert len(fake.requests()) == 1


async def test_secrets_never_in_error_messages(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    secret = "sk-proj-SuperSecretValue1234567890"
    fake.set_scenario({"api_key": "sk-the-right-one"})
    with pytest.raises(AuthenticationError) as info:
        await registry.chat(endpoint(fake, api_key=secret), ask("x"))
    assert fake.requests()[0]["status"] == 401
    for text in (str(info.value), repr(info.value), info.value.message):
        assert secret not in text and "SuperSecret" not in text
    closed = EndpointConfig(model="m", base_url=f"http://127.0.0.1:{free_port()}/v1", api_key=secret)
    with pytest.raises(ProviderConnectionError) as conn:
        await registry.chat(closed, ask("x"), retry=RetryPolicy(max_attempts=1))
    assert secret not in str(conn.value) and secret not in repr(conn.value)


async def test_client_reuse_per_endpoint_and_key(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    a = endpoint(fake, model="m1")
    b = endpoint(fake, model="m2")
    other_key = endpoint(fake, model="m1", api_key="sk-other")
    await registry.chat(a, ask("x"))
    await registry.chat(b, ask("y"))
    assert registry.adapter(a) is registry.adapter(b)
    assert registry.adapter(a).client is registry.adapter(b).client
    assert registry.adapter(other_key) is not registry.adapter(a)
    assert registry.limiter(a) is not registry.limiter(b)
    assert registry.limiter(a) is registry.limiter(endpoint(fake, model="m1", api_key="sk-other"))


async def test_unknown_provider(registry: ProviderRegistry) -> None:
    from assay.providers import BadRequestError

    with pytest.raises(BadRequestError):
        await registry.chat(EndpointConfig(model="m", provider="nope"), ask("x"))
