"""The fake server's imitations of real servers' response_format handling, over raw HTTP."""

from __future__ import annotations

import httpx
import pytest

from assay.testing.fake_llm import FakeLLMServer

SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}, "n": {"type": "integer", "minimum": 0}},
    "required": ["ok", "n"],
}
USER = [{"role": "user", "content": "judge this"}]
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "r", "schema": SCHEMA}}
JSON_OBJECT = {"type": "json_object", "schema": SCHEMA}

_HTTP = httpx.Client(timeout=10)


def ask(fake: FakeLLMServer, **body) -> httpx.Response:
    return _HTTP.post(fake.base_url + "/chat/completions", json={"model": "m", "messages": USER, **body})


def content(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize(
    ("flavor", "schema_status", "object_constrained"),
    [
        ("openai", 200, False),
        ("llama_cpp", 500, True),
        ("llama_server", 400, True),
        ("ollama", 200, False),
        ("vllm", 400, False),
        ("lmstudio", 200, None),
    ],
)
def test_response_format_handling(fake: FakeLLMServer, flavor, schema_status, object_constrained) -> None:
    fake.set_scenario({"flavor": flavor})
    r = ask(fake, response_format=JSON_SCHEMA)
    assert r.status_code == schema_status, r.text
    if flavor == "llama_cpp":
        assert "Input should be 'text' or 'json_object'" in r.json()["error"]["message"]
    if flavor == "vllm":  # `minimum` is beyond this grammar backend; vLLM's error object is top-level
        assert r.json()["object"] == "error" and "xgrammar" in r.json()["message"]
    if flavor == "ollama":
        assert content(r) == "judge this"  # ignored: free text
    if flavor in ("openai", "lmstudio"):
        assert httpx.Response(200, content=content(r)).json() == {"ok": True, "n": 0}
    r = ask(fake, response_format=JSON_OBJECT)
    if object_constrained is None:
        assert r.status_code == 400 and r.json() == {"error": "'response_format.type' must be 'json_schema' or 'text'"}
    elif object_constrained:
        assert httpx.Response(200, content=content(r)).json() == {"ok": True, "n": 0}
    else:
        assert httpx.Response(200, content=content(r)).json() == {"result": "judge this"}


def test_vllm_guided_json_and_context_limit(fake: FakeLLMServer) -> None:
    fake.set_scenario({"flavor": "vllm", "grammar_unsupported_keywords": [], "context_tokens": 100})
    assert content(ask(fake, guided_json=SCHEMA)) == '{"ok":true,"n":0}'
    assert content(ask(fake, structured_outputs={"json": SCHEMA})) == '{"ok":true,"n":0}'
    r = ask(fake, max_tokens=200)
    assert r.status_code == 400 and "maximum context length is 100 tokens" in r.json()["message"]


def test_ramble_and_max_tokens(fake: FakeLLMServer) -> None:
    fake.set_scenario({"ramble": True, "context_tokens": 500, "default_reply": '{"ok": true}'})
    body = ask(fake, max_tokens=50).json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 50
    assert choice["message"]["content"].startswith('Sure! Here is my evaluation.\n\n{"ok": true}\n\nLet me think')
    body = ask(fake).json()
    assert body["usage"]["completion_tokens"] == 500 - body["usage"]["prompt_tokens"]
    # output held to a format does not ramble
    assert ask(fake, response_format=JSON_SCHEMA).json()["choices"][0]["finish_reason"] == "stop"
    fake.set_scenario({"default_reply": "x" * 400})
    body = ask(fake, max_tokens=10).json()
    assert body["choices"][0]["finish_reason"] == "length" and len(body["choices"][0]["message"]["content"]) == 40


def test_max_completion_tokens_only(fake: FakeLLMServer) -> None:
    fake.set_scenario({"max_completion_tokens_only": True})
    r = ask(fake, max_tokens=10)
    assert r.status_code == 400 and "max_completion_tokens" in r.json()["error"]["message"]
    assert ask(fake, max_completion_tokens=10).status_code == 200
    assert fake.requests()[-1]["max_tokens"] == 10
