from __future__ import annotations

import json
import time
import uuid

import pytest

from assay.domain.outcomes import ToolCall
from assay.providers import RetryPolicy
from assay.targets import HttpClientRegistry, InstanceError, call_instance, parse_spec

from .conftest import AgentServer

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, timeout=5)
TOKEN = "tok-abcdefghijklmnop-supersecret"
CASE = {"expected_behavior": "greets", "tags": ["smoke", "en"], "metadata": {"user": {"id": 7}, "lang": "en"}}


def http_spec(agent: AgentServer, path: str, **kw):
    return parse_spec({"kind": "http", "url": f"{agent.url}{path}", **kw})


async def test_body_template_headers_and_mappings(agent: AgentServer, http_clients: HttpClientRegistry) -> None:
    spec = http_spec(
        agent,
        "/echo",
        headers={"Authorization": f"Bearer {TOKEN}", "X-Trace": "t1"},
        body_template={
            "query": "{{input_message}}",
            "expected": "{{expected_behavior}}",
            "tags": "{{tags}}",
            "user": "{{metadata.user}}",
            "note": "lang={{metadata.lang}} tags={{tags}}",
            "fixed": [1, None, True],
        },
        response={"text": "$.output.text", "tokens": "$.usage.total_tokens"},
    )
    reply = await call_instance(spec, "hello there", CASE, retry=FAST, http_clients=http_clients)
    assert (reply.text, reply.tool_calls, reply.tokens, reply.attempts) == ("echo", [], 42, 1)
    assert reply.latency_ms > 0
    [seen] = agent.state.requests
    assert seen["method"] == "POST"
    assert json.loads(seen["body"]) == {
        "query": "hello there",
        "expected": "greets",
        "tags": ["smoke", "en"],
        "user": {"id": 7},
        "note": 'lang=en tags=["smoke","en"]',
        "fixed": [1, None, True],
    }
    assert seen["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert seen["headers"]["x-trace"] == "t1" and seen["headers"]["content-type"] == "application/json"


async def test_tool_calls_with_json_string_arguments(agent: AgentServer, http_clients: HttpClientRegistry) -> None:
    spec = http_spec(
        agent,
        "/agent",
        response={
            "text": "$.choices[0].message.content",
            "tool_calls": "$.tool_calls",
            "tokens": "$.usage.total_tokens",
        },
    )
    reply = await call_instance(spec, "weather?", {}, retry=FAST, http_clients=http_clients)
    assert reply.text == "I will check the weather."
    assert reply.tool_calls == [
        ToolCall("get_weather", {"city": "Paris", "unit": "C"}),
        ToolCall("log", {"level": "info"}),
        ToolCall("noop", {}),
    ]
    assert reply.tokens == 17


async def test_missing_optional_mappings_and_plain_text(agent: AgentServer, http_clients: HttpClientRegistry) -> None:
    spec = http_spec(agent, "/echo", response={"text": "$.output", "tool_calls": "$.nothing", "tokens": "$.nope"})
    reply = await call_instance(spec, "x", {}, retry=FAST, http_clients=http_clients)
    assert reply.text == '{"text":"echo"}' and reply.tool_calls == [] and reply.tokens is None
    reply = await call_instance(http_spec(agent, "/text"), "x", {}, retry=FAST, http_clients=http_clients)
    assert reply.text == "just text"


async def test_get_sends_template_as_query(agent: AgentServer, http_clients: HttpClientRegistry) -> None:
    spec = http_spec(
        agent, "/echo", method="GET", body_template={"q": "{{input_message}}"}, response={"text": "$.output.text"}
    )
    assert (await call_instance(spec, "hi you", {}, retry=FAST, http_clients=http_clients)).text == "echo"
    assert agent.state.requests[-1]["query"] == {"q": "hi you"} and agent.state.requests[-1]["body"] == ""


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_retries_then_succeeds(agent: AgentServer, http_clients: HttpClientRegistry, status: int) -> None:
    spec = http_spec(
        agent,
        f"/flaky?fail=2&status={status}",
        headers={"X-Test-Id": uuid.uuid4().hex},
        response={"text": "$.output.text"},
    )
    reply = await call_instance(spec, "x", {}, retry=FAST, http_clients=http_clients)
    assert reply.text == "ok after 3" and reply.attempts == 3


async def test_gives_up_after_max_attempts(agent: AgentServer, http_clients: HttpClientRegistry) -> None:
    spec = http_spec(agent, "/flaky?fail=9", headers={"X-Test-Id": uuid.uuid4().hex})
    with pytest.raises(InstanceError) as info:
        await call_instance(spec, "x", {}, retry=FAST, http_clients=http_clients)
    err = info.value
    assert (err.kind, err.status_code, err.attempts) == ("server_error", 500, 3)
    assert f"{agent.url}/flaky returned HTTP 500" in str(err) and "boom" in str(err)
    assert "fail=9" not in str(err)  # the query string is left out of messages


async def test_client_errors_are_not_retried(agent: AgentServer, http_clients: HttpClientRegistry) -> None:
    spec = http_spec(agent, "/flaky?fail=9&status=400", headers={"X-Test-Id": uuid.uuid4().hex})
    with pytest.raises(InstanceError) as info:
        await call_instance(spec, "x", {}, retry=FAST, http_clients=http_clients)
    assert (info.value.kind, info.value.status_code, info.value.attempts) == ("bad_request", 400, 1)


async def test_timeout(agent: AgentServer, http_clients: HttpClientRegistry) -> None:
    spec = http_spec(agent, "/slow?s=2", timeout_s=0.2)
    started = time.perf_counter()
    with pytest.raises(InstanceError) as info:
        await call_instance(
            spec, "x", {}, retry=RetryPolicy(max_attempts=2, base_delay=0.01, timeout=None), http_clients=http_clients
        )
    assert time.perf_counter() - started < 3.5  # two 2 s replies would take 4 s without the 0.2 s timeout
    assert info.value.kind == "timeout" and info.value.attempts == 2
    assert str(info.value) == f"The instance at {agent.url}/slow timed out after 0.2s."


async def test_connection_refused(http_clients: HttpClientRegistry) -> None:
    from assay.testing.fake_llm import free_port

    spec = parse_spec({"kind": "http", "url": f"http://127.0.0.1:{free_port()}/x"})
    with pytest.raises(InstanceError) as info:
        await call_instance(spec, "x", {}, retry=FAST, http_clients=http_clients)
    assert info.value.kind == "connection" and info.value.attempts == 3
    assert "Could not connect to the instance at http://127.0.0.1:" in str(info.value)


@pytest.mark.parametrize(
    ("path", "response", "needle"),
    [
        ("/echo", {"text": "$.output.answer"}, "Response mapping text='$.output.answer' was not found in the response"),
        ("/echo", {"text": "$.choices[0].message.content"}, "(top-level keys: output, received, usage)"),
        ("/agent", {"text": "$.usage", "tool_calls": "$.usage"}, "tool_calls='$.usage' is a dict, not a list"),
        ("/agent", {"text": "$.usage", "tool_calls": "$.choices"}, "item 0 has no tool name"),
        ("/agent", {"text": "$.usage", "tokens": "$.choices"}, "tokens='$.choices' is a list, not a number"),
        ("/text", {"text": "$.output"}, "with a body that is not JSON"),
    ],
)
async def test_bad_mapping_is_a_clear_error(
    agent: AgentServer, http_clients: HttpClientRegistry, path: str, response: dict, needle: str
) -> None:
    with pytest.raises(InstanceError) as info:
        await call_instance(http_spec(agent, path, response=response), "x", {}, retry=FAST, http_clients=http_clients)
    assert needle in str(info.value)
    assert info.value.kind in ("mapping", "invalid_response") and info.value.attempts == 1


async def test_secrets_never_in_error_messages(agent: AgentServer, http_clients: HttpClientRegistry) -> None:
    spec = http_spec(
        agent,
        "/leaky?status=401",
        headers={"Authorization": f"Bearer {TOKEN}", "X-Private": {"value": "hunter2-hunter2", "secret": True}},
    )
    with pytest.raises(InstanceError) as info:
        await call_instance(spec, "x", {}, retry=FAST, http_clients=http_clients)
    message = str(info.value)
    assert info.value.kind == "auth" and "returned HTTP 401: denied for" in message
    assert agent.state.requests[-1]["headers"]["authorization"] == f"Bearer {TOKEN}"  # the server did see it
    for text in (message, repr(info.value)):
        assert TOKEN not in text and TOKEN[:8] not in text and "hunter2" not in text


async def test_one_client_per_base_url(agent: AgentServer, http_clients: HttpClientRegistry) -> None:
    a = http_spec(agent, "/echo", response={"text": "$.output.text"})
    b = http_spec(agent, "/agent", response={"text": "$.choices[0].message.content"})
    await call_instance(a, "x", {}, http_clients=http_clients)
    await call_instance(b, "x", {}, http_clients=http_clients)
    assert http_clients.client(a) is http_clients.client(b)
    other = parse_spec({"kind": "http", "url": "http://localhost:1/x"})
    assert http_clients.client(other) is not http_clients.client(a)
    await http_clients.aclose()
    assert http_clients.client(a) is not None  # a closed registry makes fresh clients on demand
