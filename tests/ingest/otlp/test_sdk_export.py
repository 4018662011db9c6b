"""Real instrumentations (opentelemetry-instrumentation-openai-v2, OpenLLMetry) call the fake LLM server and
export over OTLP/HTTP to a running Assay; the stored events carry the `$ai_*` properties."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.settings import Settings
from tests.conftest import Env, make_env, uvicorn_in_thread

CLIENT = Path(__file__).with_name("sdk_client.py")
MODES: dict[str, tuple[str, dict[str, str]]] = {
    # the instrumentation's default conventions, content as per-message log events
    "openai-v2 legacy events": ("openai-v2", {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}),
    # the latest conventions, content as a gen_ai.client.inference.operation.details log event
    "openai-v2 details event": (
        "openai-v2",
        {
            "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "event_only",
        },
    ),
    # OpenLLMetry: the current conventions, content on the span
    "openllmetry": ("openllmetry", {"TRACELOOP_TRACE_CONTENT": "true"}),
}


def _run_clients(url: str, env: Env, base_url: str) -> dict[str, str]:
    procs = {}
    for name, (kind, extra) in MODES.items():
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACELOOP_"))}
        environ.update(extra, PYTHONPATH=os.pathsep.join(sys.path))
        procs[name] = subprocess.Popen(
            [sys.executable, str(CLIENT), kind, url, env.project_token, base_url, f"user-{kind}"],
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    traces = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"{name}: {err}"
        traces[name] = out.strip().splitlines()[-1]
    return traces


async def _events(http: httpx.AsyncClient, env: Env, trace_id: str) -> list[dict[str, Any]]:
    r = await http.get(f"{env.api}/events", params={"limit": 100}, headers=env.headers)
    assert r.status_code == 200, r.text
    return [e for e in r.json()["results"] if e["properties"].get("$ai_trace_id") == trace_id]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_instrumented_openai_calls_become_generations(app, database_url: str, fake) -> None:  # noqa: ANN001
    from assay.api.app import create_app

    env = await make_env(app, "otlp")
    settings = Settings(database_url=database_url, otlp_log_wait_seconds=3.0, _env_file=None)  # type: ignore[call-arg]
    with uvicorn_in_thread(create_app(settings)) as url:
        traces = await asyncio.to_thread(_run_clients, url, env, fake.base_url)
        async with httpx.AsyncClient(base_url=url) as http:
            found: dict[str, list[dict[str, Any]]] = {}
            deadline = asyncio.get_running_loop().time() + 15
            while True:
                for name, trace_id in traces.items():
                    found[name] = await _events(http, env, trace_id)
                if all(any(e["event"] == "$ai_generation" for e in v) for v in found.values()):
                    break
                assert asyncio.get_running_loop().time() < deadline, found
                await asyncio.sleep(0.1)
    for name, events in found.items():
        by_name = {e["event"]: e for e in events}
        generation, root = by_name["$ai_generation"]["properties"], by_name["$ai_trace"]
        assert root["distinct_id"].startswith("user-"), name
        assert generation["$ai_parent_id"] == root["properties"]["$ai_span_id"], name
        assert generation["$ai_model"].startswith("gpt-4o-mini"), (name, generation)
        assert generation["$ai_provider"] == "openai", (name, generation)
        assert generation["$ai_input_tokens"] > 0 and generation["$ai_output_tokens"] > 0, (name, generation)
        assert generation["$ai_latency"] > 0
        assert [m["role"] for m in generation["$ai_input"]] == ["system", "user"], (name, generation["$ai_input"])
        assert generation["$ai_input"][1]["content"] == "What is the capital of France?", name
        assert generation["$ai_output_choices"][0]["role"] == "assistant", (name, generation)
        assert generation["$ai_output_choices"][0]["content"], (name, generation)
        assert generation["$ai_temperature"] == 0.2, (name, generation)
