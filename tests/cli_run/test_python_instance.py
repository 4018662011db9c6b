"""The `python` instance kind: sync/async callables, case fields, timeouts, errors; refused by the API."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from assay.targets import InstanceError, call_instance, parse_spec
from assay.targets.python_target import PythonSpec
from assay.trusted_code import enable_trusted_code

DATA = str(Path(__file__).parent / "data")


@pytest.fixture
def allowed():  # noqa: ANN201
    sys.path.insert(0, DATA)
    enable_trusted_code()
    yield
    enable_trusted_code(False)
    sys.path.remove(DATA)


async def test_sync_and_async_callables(allowed: None) -> None:
    spec = parse_spec({"kind": "python", "callable": "toy_agent:echo"})
    assert isinstance(spec, PythonSpec)
    reply = await call_instance(spec, "hi", {})
    assert reply.text == "echo: hi" and reply.tool_calls == [] and reply.latency_ms >= 0
    reply = await call_instance(spec, "weather", {})
    assert [c.to_dict() for c in reply.tool_calls] == [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    assert reply.tokens == 7
    spec = parse_spec({"kind": "python", "callable": "toy_agent:async_echo"})
    reply = await call_instance(spec, "hi", {"expected_behavior": "be nice"})
    assert reply.text == "hi / be nice" and reply.tokens == 3


@pytest.mark.parametrize(
    ("target", "kind", "text"),
    [
        ("toy_agent:slow", "timeout", "did not return within 0.2s"),
        ("toy_agent:bad_type", "invalid_response", "must return a string, an AgentOutput or a dict"),
        ("toy_agent:missing", "not_found", "cannot load toy_agent:missing"),
        ("no_such_module_xyz:f", "not_found", "ModuleNotFoundError"),
    ],
)
async def test_failures_become_instance_errors(allowed: None, target: str, kind: str, text: str) -> None:
    spec = parse_spec({"kind": "python", "callable": target, "timeout_s": 0.2})
    with pytest.raises(InstanceError) as info:
        await call_instance(spec, "x", {})
    assert info.value.kind == kind and text in str(info.value)


async def test_exception_is_an_instance_error(allowed: None) -> None:
    spec = parse_spec({"kind": "python", "callable": "toy_agent:echo"})
    with pytest.raises(InstanceError, match="RuntimeError: the agent exploded"):
        await call_instance(spec, "boom", {})


async def test_refused_unless_enabled() -> None:
    spec = parse_spec({"kind": "python", "callable": "toy_agent:echo"})
    with pytest.raises(InstanceError, match="only under `assay run`"):
        await call_instance(spec, "hi", {})


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="module:function"):
        parse_spec({"kind": "python", "callable": "nocolon"})
    with pytest.raises(ValueError, match="Extra inputs"):
        parse_spec({"kind": "python", "callable": "a:b", "url": "http://x"})


async def test_api_refuses_python_kind(client, env_a) -> None:  # noqa: ANN001
    body = {"name": "local", "kind": "python", "config": {"callable": "os:system"}}
    r = await client.post("/v1/instances", json=body, headers=env_a.headers)
    assert r.status_code == 422 and "assay run" in r.text
    ok = {"name": "a", "kind": "http", "config": {"url": "http://agent.example/chat"}}
    created = (await client.post("/v1/instances", json=ok, headers=env_a.headers)).json()
    r = await client.patch(f"/v1/instances/{created['id']}", json={"kind": "python"}, headers=env_a.headers)
    assert r.status_code == 422
