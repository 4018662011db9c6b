from __future__ import annotations

import subprocess
import sys
import time

import httpx
import jsonschema
import openai
import orjson
import pytest

from assay.testing.fake_llm import FakeLLMServer, ThreadedFakeLLMServer, free_port, synthesize

USER = [{"role": "user", "content": "hello there"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}]


_HTTP = httpx.Client(timeout=10)


def post(fake: FakeLLMServer, body: dict, path: str = "/chat/completions", **headers: str) -> httpx.Response:
    return _HTTP.post(fake.base_url + path, json=body, headers=headers)


def test_chat_completion_shape_echo_and_usage(fake: FakeLLMServer) -> None:
    body = post(fake, {"model": "m1", "messages": USER}).json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "m1"
    choice = body["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"] == {"role": "assistant", "content": "hello there", "refusal": None}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_rule_reply_regex_on_system_and_usage_override(fake: FakeLLMServer) -> None:
    fake.set_scenario(
        {
            "rules": [
                {
                    "regex": r"pirate\b",
                    "target": "system",
                    "reply": "Arr",
                    "usage": {"prompt_tokens": 7, "completion_tokens": 3},
                }
            ]
        }
    )
    messages = [{"role": "system", "content": "You are a pirate"}, *USER]
    body = post(fake, {"model": "m", "messages": messages}).json()
    assert body["choices"][0]["message"]["content"] == "Arr"
    assert body["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}


def test_tool_calls_then_final_text_after_tool_result(fake: FakeLLMServer) -> None:
    fake.set_scenario(
        {
            "rules": [
                {
                    "contains": "weather",
                    "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
                    "final_reply": "It is sunny.",
                }
            ]
        }
    )
    messages = [{"role": "user", "content": "weather in Paris?"}]
    first = post(fake, {"model": "m", "messages": messages, "tools": TOOLS}).json()["choices"][0]
    assert first["finish_reason"] == "tool_calls"
    call = first["message"]["tool_calls"][0]
    assert call["type"] == "function" and call["id"]
    assert call["function"]["name"] == "get_weather"
    assert orjson.loads(call["function"]["arguments"]) == {"city": "Paris"}
    messages += [first["message"], {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]
    second = post(fake, {"model": "m", "messages": messages, "tools": TOOLS}).json()["choices"][0]
    assert second["finish_reason"] == "stop"
    assert second["message"]["content"] == "It is sunny."
    # without tools offered, the rule does not invent tool calls
    plain = post(fake, {"model": "m", "messages": [{"role": "user", "content": "weather?"}]}).json()
    assert "tool_calls" not in plain["choices"][0]["message"]


SCHEMA = {
    "type": "object",
    "properties": {
        "reasoning": {"type": "string"},
        "verdict": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
        "score": {"type": "integer", "minimum": 10, "maximum": 20},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}, "minItems": 2},
        "kind": {"enum": ["a", "b"]},
    },
    "required": ["reasoning", "verdict", "score", "tags", "kind"],
    "additionalProperties": False,
    "$defs": {"tag": {"type": "string", "minLength": 6}},
}


def test_json_schema_output_is_valid_and_rules_override(fake: FakeLLMServer) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "Out", "schema": SCHEMA, "strict": True}}
    content = post(fake, {"model": "m", "messages": USER, "response_format": fmt}).json()["choices"][0]["message"][
        "content"
    ]
    value = orjson.loads(content)
    jsonschema.validate(value, SCHEMA)
    fake.set_scenario({"rules": [{"contains": "hello", "json": {"verdict": False, "reasoning": "nope"}}]})
    content = post(fake, {"model": "m", "messages": USER, "response_format": fmt}).json()["choices"][0]["message"][
        "content"
    ]
    value = orjson.loads(content)
    jsonschema.validate(value, SCHEMA)
    assert value["verdict"] is False and value["reasoning"] == "nope"


def test_json_object_mode(fake: FakeLLMServer) -> None:
    body = post(fake, {"model": "m", "messages": USER, "response_format": {"type": "json_object"}}).json()
    assert orjson.loads(body["choices"][0]["message"]["content"]) == {"result": "hello there"}


def test_synthesize_subset() -> None:
    assert synthesize({"type": "object", "properties": {"n": {"type": "number", "exclusiveMinimum": 0}}}) == {"n": 1.0}
    assert synthesize({"type": ["null", "string"]}) == "fake"
    assert synthesize({"const": 3}) == 3
    assert synthesize({"type": "object", "properties": {"a": {"type": "boolean"}}}, {"a": False, "b": 1}) == {
        "a": False,
        "b": 1,
    }


async def test_streaming_with_openai_sdk(fake: FakeLLMServer) -> None:
    fake.set_scenario({"default_reply": "streamed reply text"})
    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key="k", max_retries=0)
    stream = await client.chat.completions.create(
        model="m", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    text, finish, usage = "", None, None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    await client.close()
    assert text == "streamed reply text" and finish == "stop"
    assert usage is not None and usage.total_tokens > 0


def test_anthropic_messages_shape_and_auth_headers(fake: FakeLLMServer) -> None:
    fake.set_scenario(
        {
            "api_key": "ak-secret",
            "rules": [{"contains": "weather", "tool_calls": [{"name": "w", "arguments": {"q": 1}}]}],
        }
    )
    body = {"model": "claude", "max_tokens": 50, "system": "be brief", "messages": [{"role": "user", "content": "hi"}]}
    assert post(fake, body, "/messages").status_code == 401
    assert post(fake, body, "/messages", **{"x-api-key": "wrong"}).status_code == 401
    ok = post(fake, body, "/messages", **{"x-api-key": "ak-secret"}).json()
    assert ok["type"] == "message" and ok["role"] == "assistant" and ok["stop_reason"] == "end_turn"
    assert ok["content"] == [{"type": "text", "text": "hi"}]
    assert set(ok["usage"]) == {"input_tokens", "output_tokens"}
    tools = [{"name": "w", "input_schema": {"type": "object"}}]
    body = {"model": "claude", "max_tokens": 50, "tools": tools, "messages": [{"role": "user", "content": "weather?"}]}
    tool = post(fake, body, "/messages", authorization="Bearer ak-secret").json()
    assert tool["stop_reason"] == "tool_use"
    assert tool["content"][0] == {"type": "tool_use", "id": tool["content"][0]["id"], "name": "w", "input": {"q": 1}}


def test_api_key_required_for_openai_route(fake: FakeLLMServer) -> None:
    fake.set_scenario({"api_key": "sk-right"})
    assert post(fake, {"model": "m", "messages": USER}).status_code == 401
    assert post(fake, {"model": "m", "messages": USER}, authorization="Bearer sk-right").status_code == 200


def test_injected_faults(fake: FakeLLMServer) -> None:
    fake.set_scenario({"faults": {"rate_429": 1.0, "retry_after_s": 3}})
    response = post(fake, {"model": "m", "messages": USER})
    assert response.status_code == 429 and response.headers["retry-after"] == "3"
    fake.set_scenario({"faults": {"rate_500": 1.0}})
    assert post(fake, {"model": "m", "messages": USER}).status_code == 500
    fake.set_scenario({"faults": {"rate_timeout": 1.0, "timeout_s": 0.3}})
    started = time.monotonic()
    assert post(fake, {"model": "m", "messages": USER}).status_code == 504
    assert time.monotonic() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(fake.base_url + "/chat/completions", json={"model": "m", "messages": USER}, timeout=0.1)


def test_malformed_modes(fake: FakeLLMServer) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "Out", "schema": SCHEMA}}
    fake.set_scenario({"faults": {"rate_malformed": 1.0}})
    content = post(fake, {"model": "m", "messages": USER, "response_format": fmt}).json()["choices"][0]["message"][
        "content"
    ]
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(content)
    fake.set_scenario({"faults": {"rate_malformed": 1.0, "malformed_mode": "schema_violation"}})
    content = post(fake, {"model": "m", "messages": USER, "response_format": fmt}).json()["choices"][0]["message"][
        "content"
    ]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(orjson.loads(content), SCHEMA)
    fake.set_scenario({"faults": {"rate_malformed": 1.0}})
    raw = post(fake, {"model": "m", "messages": USER})
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw.content)


def test_fault_rates_are_seeded_and_reproducible() -> None:
    # A server of its own: a slow request left over from another test must not land in these counts.
    with FakeLLMServer(scenario={"seed": 7, "faults": {"rate_429": 0.3, "rate_500": 0.1}}) as fake:
        first = [post(fake, {"model": "m", "messages": USER}).status_code for _ in range(100)]
        fake.reset()
        second = [post(fake, {"model": "m", "messages": USER}).status_code for _ in range(100)]
        assert first == second
        assert 15 <= first.count(429) <= 45 and 2 <= first.count(500) <= 20
        stats = fake.stats()
        for _ in range(50):  # the log entry of the last request may land just after its response
            if stats["total"] == 100:
                break
            time.sleep(0.02)
            stats = fake.stats()
        assert stats["by_status"]["429"] == first.count(429)
        assert stats["total"] == 100


def test_rule_times_status_and_error_codes(fake: FakeLLMServer) -> None:
    fake.set_scenario({"rules": [{"contains": "hello", "status": 500, "times": 2}]})
    statuses = [post(fake, {"model": "m", "messages": USER}).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    fake.set_scenario({"rules": [{"status": 429, "error_code": "insufficient_quota"}]})
    error = post(fake, {"model": "m", "messages": USER}).json()["error"]
    assert error["code"] == "insufficient_quota" and error["type"] == "insufficient_quota"


def test_strict_models_and_json_schema_rejection(fake: FakeLLMServer) -> None:
    fake.set_scenario({"strict_models": True, "models": ["known"], "json_schema_supported": False})
    assert post(fake, {"model": "unknown", "messages": USER}).json()["error"]["code"] == "model_not_found"
    fmt = {"type": "json_schema", "json_schema": {"name": "Out", "schema": SCHEMA}}
    rejected = post(fake, {"model": "known", "messages": USER, "response_format": fmt})
    assert rejected.status_code == 400 and "response_format" in rejected.json()["error"]["message"]
    models = httpx.get(fake.base_url + "/models").json()
    assert models["object"] == "list" and [m["id"] for m in models["data"]] == ["known"]


def test_schema_in_fallback_instruction_is_honoured(fake: FakeLLMServer) -> None:
    system = "Judge.\n\nYou must respond with valid JSON that matches this schema:\n" + orjson.dumps(SCHEMA).decode()
    messages = [{"role": "system", "content": system}, *USER]
    content = post(fake, {"model": "m", "messages": messages}).json()["choices"][0]["message"]["content"]
    jsonschema.validate(orjson.loads(content), SCHEMA)


def test_request_log_and_reset(fake: FakeLLMServer) -> None:
    post(fake, {"model": "m1", "messages": USER, "temperature": 0})
    post(fake, {"model": "m2", "messages": [{"role": "user", "content": "other"}]})
    log = fake.requests()
    assert [e["model"] for e in log] == ["m1", "m2"]
    assert log[0]["last_user"] == "hello there" and log[0]["status"] == 200 and log[0]["temperature"] == 0
    assert len(log[0]["hash"]) == 64 and log[0]["hash"] != log[1]["hash"]
    assert log[0]["ts"] <= log[1]["ts"]
    fake.reset()
    assert fake.requests() == [] and fake.stats()["total"] == 0


def test_rpm_and_tpm_limits_answer_429_with_retry_after(fake: FakeLLMServer) -> None:
    fake.set_scenario({"rpm_limit": 120, "rpm_burst_s": 1.0})  # a bucket of 2 requests, refilled 2 a second
    statuses = [post(fake, {"model": "m", "messages": USER}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = post(fake, {"model": "m", "messages": USER})
    assert refused.status_code == 429 and 0 < float(refused.headers["retry-after"]) <= 0.5
    assert "RPM" in refused.json()["error"]["message"]
    long = [{"role": "user", "content": "word " * 200}]  # about 250 prompt tokens
    fake.set_scenario({"tpm_limit": 30_000, "tpm_burst_s": 1.0})  # 500 tokens at once, 500 a second
    fake.reset()
    first = post(fake, {"model": "m", "messages": long})
    assert first.status_code == 200
    second = post(fake, {"model": "m", "messages": long})  # the echo's completion tokens emptied the bucket
    assert second.status_code == 429 and "TPM" in second.json()["error"]["message"]
    assert float(second.headers["retry-after"]) > 0
    time.sleep(float(second.headers["retry-after"]) + 0.05)
    assert post(fake, {"model": "m", "messages": long}).status_code == 200
    answered = [e for e in fake.requests() if e["status"] == 200]
    usage = first.json()["usage"]
    assert answered[0]["tokens"] == usage["total_tokens"] > 400


def test_bad_scenario_and_bad_body(fake: FakeLLMServer) -> None:
    assert httpx.put(fake.url + "/_fake/scenario", content=b'{"latency_ms": "x"}').status_code == 422
    assert httpx.post(fake.base_url + "/chat/completions", content=b"not json").status_code == 400


def test_latency_applies(fake: FakeLLMServer) -> None:
    fake.set_scenario({"latency_ms": 150})
    started = time.monotonic()
    post(fake, {"model": "m", "messages": USER})
    assert time.monotonic() - started >= 0.15


def test_threaded_variant() -> None:
    with ThreadedFakeLLMServer({"default_reply": "threaded"}) as server:
        body = httpx.post(server.base_url + "/chat/completions", json={"model": "m", "messages": USER}).json()
        assert body["choices"][0]["message"]["content"] == "threaded"
        assert server.app.stats()["total"] == 1


def test_command_line(tmp_path) -> None:
    port = free_port()
    scenario = tmp_path / "s.json"
    scenario.write_text('{"default_reply": "from file"}')
    cmd = [sys.executable, "-m", "assay.testing.fake_llm", "--port", str(port), "--scenario", str(scenario)]
    process = subprocess.Popen([*cmd, "--rate-429", "1", "--retry-after", "2"])
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(url + "/_fake/stats")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        response = httpx.post(url + "/v1/chat/completions", json={"model": "m", "messages": USER})
        assert response.status_code == 429 and response.headers["retry-after"] == "2"
        assert httpx.get(url + "/_fake/scenario").json()["default_reply"] == "from file"
    finally:
        process.terminate()
        process.wait(10)
