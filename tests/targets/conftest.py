"""A tiny local agent server (Starlette on uvicorn in a thread) and the fake LLM server, per test module."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from assay.providers import ProviderRegistry
from assay.targets import HttpClientRegistry
from assay.testing.fake_llm import free_port


class AgentState:
    """What the agent server saw, and per-key failure counters."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.failures: dict[str, int] = {}


def build_app(state: AgentState) -> Starlette:
    async def record(request: Request) -> dict[str, Any]:
        raw = await request.body()
        entry = {
            "path": request.url.path,
            "method": request.method,
            "headers": dict(request.headers),
            "query": dict(request.query_params),
            "body": raw.decode(),
        }
        state.requests.append(entry)
        return entry

    async def echo(request: Request) -> Response:
        entry = await record(request)
        return JSONResponse({"output": {"text": "echo"}, "received": entry["body"], "usage": {"total_tokens": 42}})

    async def agent(request: Request) -> Response:
        await record(request)
        return JSONResponse(
            {
                "choices": [{"message": {"content": "I will check the weather."}}],
                "tool_calls": [
                    {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "C"}'},
                    {"function": {"name": "log", "arguments": {"level": "info"}}},
                    {"name": "noop"},
                ],
                "usage": {"total_tokens": 17},
            }
        )

    async def flaky(request: Request) -> Response:
        await record(request)
        key = request.headers.get("x-test-id", "")
        state.failures[key] = state.failures.get(key, 0) + 1
        if state.failures[key] <= int(request.query_params.get("fail", "1")):
            status = int(request.query_params.get("status", "500"))
            headers = {"Retry-After": "0"} if status == 429 else None
            return JSONResponse({"error": "boom"}, status_code=status, headers=headers)
        return JSONResponse({"output": {"text": f"ok after {state.failures[key]}"}})

    async def slow(request: Request) -> Response:
        await record(request)
        await asyncio.sleep(float(request.query_params.get("s", "2")))
        return JSONResponse({"output": {"text": "late"}})

    async def leaky(request: Request) -> Response:
        """An error page that echoes the request headers (as careless servers do)."""
        entry = await record(request)
        status = int(request.query_params.get("status", "401"))
        return PlainTextResponse(f"denied for {entry['headers']}", status_code=status)

    async def text(request: Request) -> Response:
        await record(request)
        return PlainTextResponse("just text")

    routes = [
        Route("/echo", echo, methods=["POST", "PUT", "GET"]),
        Route("/agent", agent, methods=["POST"]),
        Route("/flaky", flaky, methods=["POST"]),
        Route("/slow", slow, methods=["POST"]),
        Route("/leaky", leaky, methods=["POST"]),
        Route("/text", text, methods=["POST"]),
    ]
    return Starlette(routes=routes)


class AgentServer:
    def __init__(self) -> None:
        self.state = AgentState()
        self.port = free_port()
        config = uvicorn.Config(
            build_app(self.state), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="agent-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AgentServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                httpx.post(f"{self.url}/text", timeout=1.0)
                self.state.requests.clear()
                return self
            except httpx.TransportError:
                time.sleep(0.02)
        raise RuntimeError("agent server did not start")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


@pytest.fixture(scope="module")
def agent_server() -> Iterator[AgentServer]:
    server = AgentServer().start()
    yield server
    server.stop()


@pytest.fixture
def agent(agent_server: AgentServer) -> AgentServer:
    agent_server.state.requests.clear()
    return agent_server


@pytest.fixture
async def providers() -> AsyncIterator[ProviderRegistry]:
    registry = ProviderRegistry()
    yield registry
    await registry.aclose()


@pytest.fixture
async def http_clients() -> AsyncIterator[HttpClientRegistry]:
    registry = HttpClientRegistry()
    yield registry
    await registry.aclose()
