"""Fixtures for run-engine tests: an app with its background dispatcher running, and suite builders."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from assay.api.app import create_app
from assay.settings import Settings
from tests.conftest import make_env

JUDGE_MODEL = "judge-model"
AGENT_MODEL = "agent-model"


@pytest.fixture
def engine_settings(database_url: str, fake) -> Settings:  # noqa: ANN001
    return Settings(
        database_url=database_url,
        judge_model=f"openai/{JUDGE_MODEL}",
        judge_base_url=fake.base_url,
        judge_api_key="sk-judge-secret-0001",
        run_concurrency=8,
        _env_file=None,
    )  # type: ignore[call-arg]


@pytest.fixture
async def running_app(engine_settings: Settings):  # noqa: ANN201
    """The app with its lifespan entered, so the in-process dispatcher executes runs."""
    app = create_app(engine_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def engine_client(running_app):  # noqa: ANN001, ANN201
    import httpx

    transport = httpx.ASGITransport(app=running_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def tenant(running_app):  # noqa: ANN001, ANN201
    return await make_env(running_app, "engine-env")


async def create_instance(client, env, fake, **config: Any) -> str:  # noqa: ANN001
    body = {
        "name": "agent",
        "kind": "openai_chat",
        "config": {
            "base_url": fake.base_url,
            "model": AGENT_MODEL,
            "api_key": "sk-agent-secret-0002",
            "max_concurrency": 16,
            **config,
        },
    }
    r = await client.post("/v1/instances", json=body, headers=env.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def create_suite(client, env, *, instance_id: str, recipe_id: str | None = None, cases=(), config=None) -> str:  # noqa: ANN001
    body: dict[str, Any] = {"name": "suite", "instance_id": instance_id, "config": config or {}}
    if recipe_id:
        body["recipe_id"] = recipe_id
    r = await client.post("/v1/evaluations", json=body, headers=env.headers)
    assert r.status_code == 201, r.text
    suite_id = r.json()["id"]
    for i, case in enumerate(cases):
        r = await client.post(
            f"/v1/evaluations/{suite_id}/test-cases", json={"sort_order": i, **case}, headers=env.headers
        )
        assert r.status_code == 201, r.text
    return suite_id


async def wait_for_task(client, env, task_id: str, timeout: float = 60) -> dict[str, Any]:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        task = (await client.get(f"/v1/tasks/{task_id}", headers=env.headers)).json()
        if task["status"] in {"completed", "failed", "cancelled"}:
            return task
        assert loop.time() < deadline, f"task still {task['status']}: {task['progress']}"
        await asyncio.sleep(0.1)
