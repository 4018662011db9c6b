from __future__ import annotations

import pytest
from pydantic import ValidationError

from assay.targets import HttpSpec, OpenAIChatSpec, parse_spec
from assay.targets.jsonpath import MISSING, JsonPathError, parse_path, resolve
from assay.targets.template import render

KEY = "sk-live-verysecretkey123"


def errors(data: dict) -> str:
    with pytest.raises(ValidationError) as info:
        parse_spec(data)
    return str(info.value)


def test_openai_chat_defaults_and_secret_masking() -> None:
    spec = parse_spec(
        {
            "kind": "openai_chat",
            "base_url": "http://localhost:8000/v1/",
            "model": "m",
            "api_key": KEY,
            "parameters": {"temperature": 0.2, "max_tokens": 50, "seed": 7},
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
        }
    )
    assert isinstance(spec, OpenAIChatSpec)
    assert spec.base_url == "http://localhost:8000/v1"
    assert spec.parameters.model_dump()["seed"] == 7
    assert KEY not in repr(spec) and KEY not in spec.model_dump_json()
    assert spec.model_dump(mode="json")["api_key"] == "********"
    assert spec.reveal()["api_key"] == KEY
    assert parse_spec(spec.reveal()) == spec  # a revealed dict round-trips
    assert parse_spec({"kind": "openai_chat", "base_url": "http://h/v1", "model": "m"}).api_key is None


def test_http_defaults_and_header_secrets() -> None:
    spec = parse_spec(
        {
            "kind": "http",
            "url": "https://agent.example.com/chat",
            "method": "put",
            "headers": {
                "Authorization": "Bearer tok-123456789",
                "X-Custom": {"value": "hidden-value", "secret": True},
                "X-Trace": "plain",
            },
        }
    )
    assert isinstance(spec, HttpSpec)
    assert spec.method == "PUT" and spec.body_template == {"input": "{{input_message}}"} and spec.response.text == "$"
    dumped = spec.model_dump(mode="json")["headers"]
    assert dumped == {
        "Authorization": {"value": "********", "secret": True},
        "X-Custom": {"value": "********", "secret": True},
        "X-Trace": {"value": "********", "secret": True},  # every header value is secret unless marked public
    }
    assert spec.header_values()["Authorization"] == "Bearer tok-123456789"
    assert sorted(spec.secret_values()) == ["Bearer tok-123456789", "hidden-value", "plain"]
    assert "tok-123456789" not in repr(spec)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"kind": "http", "url": "ftp://x/y"}, "url must be an absolute http(s) URL"),
        ({"kind": "http", "url": "not a url"}, "url must be an absolute http(s) URL"),
        ({"kind": "http", "url": "http://h:99999/"}, "url is not a valid URL"),
        ({"kind": "openai_chat", "base_url": "localhost:8000", "model": "m"}, "base_url must be an absolute"),
        ({"kind": "http", "url": "http://h", "body_template": {"a": "{{nope}}"}}, "Unknown placeholder {{nope}}"),
        ({"kind": "http", "url": "http://h", "body_template": ["{{metadata.}}"]}, "Unknown placeholder"),
        ({"kind": "http", "url": "http://h", "response": {"text": "output.text"}}, "must start with '$'"),
        ({"kind": "http", "url": "http://h", "response": {"tokens": "$.usage[x]"}}, "malformed at position 7"),
        ({"kind": "http", "url": "http://h", "headers": {"Bad Name": "v"}}, "invalid header name"),
        ({"kind": "http", "url": "http://h", "timeout_s": 0}, "greater than 0"),
        ({"kind": "grpc", "url": "http://h"}, "does not match any of the expected tags"),
        ({"kind": "openai_chat", "base_url": "http://h", "model": "m", "tools": [{"type": "function"}]}, "function"),
        (
            {"kind": "openai_chat", "base_url": "http://h", "model": "m", "tools": [{"function": {"name": "a b"}}]},
            "tool function name",
        ),
        (
            {
                "kind": "openai_chat",
                "base_url": "http://h",
                "model": "m",
                "tools": [{"function": {"name": "f", "parameters": {"type": "string"}}}],
            },
            "type 'object'",
        ),
        (
            {"kind": "openai_chat", "base_url": "http://h", "model": "m", "tools": [{"function": {"name": "f"}}] * 2},
            "duplicate tool names: f",
        ),
        ({"kind": "openai_chat", "base_url": "http://h", "model": "m", "parameters": {"temperature": 3}}, "less than"),
    ],
)
def test_validation_errors_are_clear(data: dict, needle: str) -> None:
    assert needle in errors(data)


def test_validation_errors_never_show_secrets() -> None:
    message = errors({"kind": "openai_chat", "base_url": "nope", "model": "m", "api_key": KEY})
    assert KEY not in message
    message = errors({"kind": "bogus", "api_key": KEY, "headers": {"Authorization": KEY}})
    assert KEY not in message
    message = errors({"kind": "http", "url": "http://h", "headers": {"Authorization": {"value": KEY, "x": 1}}})
    assert KEY not in message


def test_json_paths() -> None:
    body = {"choices": [{"message": {"content": "hi"}}], "a b": {"c": 1}, "items": [1, 2, 3]}
    assert resolve(body, parse_path("$.choices[0].message.content")) == "hi"
    assert resolve(body, parse_path("$['a b'][\"c\"]")) == 1
    assert resolve(body, parse_path("$.items[-1]")) == 3
    assert resolve(body, parse_path("$")) is body
    assert resolve(body, parse_path("$.choices[1]")) is MISSING
    assert resolve(body, parse_path("$.items.x")) is MISSING
    for bad in ("", "x", "$.", "$[", "$.a..b", "$.a[0", "$[ 0]"):
        with pytest.raises(JsonPathError):
            parse_path(bad)


def test_template_rendering() -> None:
    template = {
        "messages": [{"role": "user", "content": "{{input_message}}"}],
        "tags": "{{tags}}",
        "expected": "{{ expected_behavior }}",
        "summary": "Q: {{input_message}} / tags={{tags}} / user={{metadata.user.id}} / none={{metadata.missing}}",
        "user": "{{metadata.user}}",
        "n": 3,
        "{{metadata.key}}": True,
    }
    values = {
        "input_message": 'say "hi"',
        "expected_behavior": None,
        "tags": ["a", "b"],
        "metadata": {"user": {"id": 7}, "key": "dyn"},
    }
    assert render(template, values) == {
        "messages": [{"role": "user", "content": 'say "hi"'}],
        "tags": ["a", "b"],
        "expected": None,
        "summary": 'Q: say "hi" / tags=["a","b"] / user=7 / none=',
        "user": {"id": 7},
        "n": 3,
        "dyn": True,
    }
