"""Fixtures for online evaluation: an app whose scheduler runs, helpers to create evaluations and events."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from assay.api.app import create_app
from assay.settings import Settings
from tests.conftest import make_env

JUDGE_MODEL = "judge-model"


def online_settings(database_url: str, fake: Any, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "judge_model": f"openai/{JUDGE_MODEL}",
        "judge_base_url": fake.base_url,
        "judge_api_key": "sk-judge-secret-0001",
        "online_poll_seconds": 0.05,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def online_settings_(database_url: str, fake) -> Settings:  # noqa: ANN001
    return online_settings(database_url, fake)


@pytest.fixture
async def running_app(online_settings_: Settings):  # noqa: ANN201
    app = create_app(online_settings_)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(running_app):  # noqa: ANN001, ANN201
    transport = httpx.ASGITransport(app=running_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def env(running_app):  # noqa: ANN001, ANN201
    return await make_env(running_app, "online-env")


def condition(*filters: dict[str, Any], rollout: float | None = 100) -> dict[str, Any]:
    cond: dict[str, Any] = {"id": str(uuid.uuid4()), "properties": list(filters)}
    if rollout is not None:
        cond["rollout_percentage"] = rollout
    return cond


def model_is(value: str) -> dict[str, Any]:
    return {"key": "$ai_model", "value": value, "operator": "exact", "type": "event"}


async def create_evaluation(http, env, **fields: Any) -> dict[str, Any]:  # noqa: ANN001
    body: dict[str, Any] = {
        "name": "hog-eval",
        "evaluation_type": "hog",
        "evaluation_config": {"source": "print('checked'); return length(output) > 0"},
        "output_type": "boolean",
        "output_config": {},
        "enabled": True,
        "conditions": [condition()],
    }
    body.update(fields)
    r = await http.post(f"{env.api}/evaluations", json=body, headers=env.headers)
    assert r.status_code == 201, r.text
    return r.json()


def generation_event(distinct_id: str = "user-1", model: str = "gpt-4o-mini", **props: Any) -> dict[str, Any]:
    return {
        "event": "$ai_generation",
        "distinct_id": distinct_id,
        "uuid": str(uuid.uuid4()),
        "properties": {
            "$ai_trace_id": f"trace-{uuid.uuid4().hex[:8]}",
            "$ai_model": model,
            "$ai_input": [{"role": "user", "content": "What is 2+2?"}],
            "$ai_output_choices": [{"role": "assistant", "content": "4"}],
            **props,
        },
    }


async def send(http, env, events: list[dict[str, Any]]) -> None:  # noqa: ANN001
    r = await http.post("/batch/", json={"api_key": env.project_token, "batch": events})
    assert r.status_code == 200, r.text
    assert "rejected" not in r.json(), r.text


async def evaluation_events(http, env) -> list[dict[str, Any]]:  # noqa: ANN001
    r = await http.get(f"{env.api}/events", params={"event": "$ai_evaluation", "limit": 1000}, headers=env.headers)
    assert r.status_code == 200, r.text
    return r.json()["results"]


async def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):  # noqa: ANN001, ANN201
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(interval)


async def runs(app) -> list[Any]:  # noqa: ANN001
    from sqlalchemy import select

    from assay.storage.online_tables import EvaluationRunRow

    async with app.state.sessionmaker() as session:
        return list(await session.scalars(select(EvaluationRunRow).order_by(EvaluationRunRow.created_at)))


async def settle(app, expected_runs: int | None = None, timeout: float = 20.0) -> list[Any]:  # noqa: ANN001
    """Wait until the scheduler consumed every event and no run is queued or running."""
    from sqlalchemy import func, select

    from assay.storage.event_tables import EventRow
    from assay.storage.online_tables import SchedulerCursorRow

    async def done() -> list[Any] | None:
        async with app.state.sessionmaker() as session:
            top = await session.scalar(select(func.max(EventRow.seq)).where(EventRow.event != "$ai_evaluation"))
            cursor = await session.scalar(select(SchedulerCursorRow.last_seq))
        rows = await runs(app)
        if top is not None and (cursor or 0) < top:
            return None
        if any(r.status in ("queued", "running", "finishing", "retrying") for r in rows):
            return None
        if expected_runs is not None and len(rows) < expected_runs:
            return None
        return rows or [None]

    result = await wait_for(done, timeout)
    return [r for r in result if r is not None]
