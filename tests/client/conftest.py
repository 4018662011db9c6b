"""A real Assay server for SDK tests: uvicorn on a free port in a thread, lifespan on, temporary SQLite.

The server (and its fake-LLM judge) is shared by a test module; each test gets an environment of its own.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

import assay
from assay.api.app import create_app
from assay.settings import Settings
from assay.testing.fake_llm import FakeLLMServer, free_port
from tests.conftest import Env, _sqlite_url, add_key, make_env

JUDGE_MODEL = "judge-model"
AGENT_MODEL = "agent-model"


@dataclass
class LiveServer:
    """A running server: its URL, and helpers that run coroutines on its event loop."""

    url: str
    app: Any
    loop: asyncio.AbstractEventLoop

    def call(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def env(self, name: str = "sdk", scopes: list[str] | None = None) -> Env:
        return self.call(make_env(self.app, f"{name}-{uuid.uuid4().hex[:8]}", scopes))

    def key(self, env: Env, scopes: list[str]) -> str:
        return self.call(add_key(self.app, env, scopes))


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, fake_server: FakeLLMServer) -> Iterator[LiveServer]:
    database_url = _sqlite_url(tmp_path_factory.mktemp("sdk-db"))
    settings = Settings(
        database_url=database_url,
        judge_model=f"openai/{JUDGE_MODEL}",
        judge_base_url=fake_server.base_url,
        judge_api_key="sk-judge-secret-0001",
        run_concurrency=8,
        online_poll_seconds=0.05,
        _env_file=None,
    )  # type: ignore[call-arg]
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.serve())

    thread = threading.Thread(target=serve, name="assay-sdk-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server thread died during start-up"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{url}/healthz").status_code == 200
    try:
        yield LiveServer(url=url, app=app, loop=loop)
    finally:
        server.should_exit = True
        thread.join(30)
        loop.close()


@pytest.fixture
def env(live_server: LiveServer) -> Env:
    """A fresh environment with an all-scopes key."""
    return live_server.env()


@pytest.fixture
def client(live_server: LiveServer, env: Env) -> Iterator[assay.Client]:
    with assay.Client(live_server.url, env.key) as c:
        yield c


@pytest.fixture
async def aclient(live_server: LiveServer, env: Env):  # noqa: ANN201
    async with assay.AsyncClient(live_server.url, env.key) as c:
        yield c


def instance_config(fake: FakeLLMServer, **extra: Any) -> dict[str, Any]:
    return {"base_url": fake.base_url, "model": AGENT_MODEL, "api_key": "sk-agent-secret-0002", **extra}
