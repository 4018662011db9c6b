"""Concurrent ingestion and CRUD against a real uvicorn server on SQLite, with the online scheduler evaluating events.

50 clients at once send `/batch/` bodies and create datasets and dataset items while an enabled Hog
evaluation runs on every `$ai_generation`. Every request must succeed, none may wait anywhere near the
connection pool's 30 s timeout, and every event must be evaluated exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assay.api.app import create_app
from tests.conftest import uvicorn_in_thread
from tests.online.conftest import create_evaluation, generation_event, online_settings

CLIENTS = 50
ROUNDS = 4
EVENTS_PER_BATCH = 10
MAX_LATENCY_S = 10.0
"""Far below the pool's 30 s timeout that requests waited for when the write lock and the pool deadlocked."""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(180),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def served(database_url: str, fake: Any) -> Iterator[str]:
    """A real uvicorn server (own thread and event loop) as `assay serve` runs it: background workers on."""
    settings = online_settings(database_url, fake, workers=1, online_evaluation=True)
    with uvicorn_in_thread(create_app(settings)) as url:
        yield url


async def _client(http: httpx.AsyncClient, env: Any, n: int, log: list[tuple[str, int, float]]) -> None:
    async def timed(label: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        started = time.perf_counter()
        try:
            r = await http.request(method, url, **kwargs)
        except httpx.HTTPError as e:
            log.append((f"{label}: {type(e).__name__}", 0, time.perf_counter() - started))
            raise
        log.append((label, r.status_code, time.perf_counter() - started))
        return r

    for i in range(ROUNDS):
        batch = [generation_event(distinct_id=f"load-{n}-{i}-{j}") for j in range(EVENTS_PER_BATCH)]
        await timed("batch", "POST", "/batch/", json={"api_key": env.project_token, "batch": batch})
        if i % 2 == n % 2:
            r = await timed("dataset", "POST", f"{env.api}/datasets", json={"name": f"ds-{n}-{i}"}, headers=env.headers)
            if r.status_code == 201:
                item = {"dataset": r.json()["id"], "input": {"q": i}, "output": {"a": n}}
                await timed("item", "POST", f"{env.api}/dataset_items", json=item, headers=env.headers)
        else:
            await timed("list", "GET", f"{env.api}/datasets", params={"limit": 5}, headers=env.headers)


def _latencies(log: list[tuple[str, int, float]]) -> str:
    """p50 and max latency per kind of request."""
    parts = []
    for label in sorted({entry[0] for entry in log}):
        seconds = sorted(s for lab, _, s in log if lab == label)
        parts.append(f"{label} ×{len(seconds)}: p50 {seconds[len(seconds) // 2]:.2f} s, max {seconds[-1]:.2f} s")
    return ", ".join(parts)


async def _evaluated(http: httpx.AsyncClient, env: Any) -> int:
    r = await http.get(f"{env.api}/events", params={"event": "$ai_evaluation", "limit": 1}, headers=env.headers)
    assert r.status_code == 200, r.text
    return int(r.json()["count"])


async def test_fifty_clients_mixed_load_has_no_errors(client, env_a, served) -> None:
    env = env_a
    await create_evaluation(client, env, name="load-hog")
    log: list[tuple[str, int, float]] = []
    limits = httpx.Limits(max_connections=CLIENTS + 10)
    async with httpx.AsyncClient(base_url=served, timeout=45, limits=limits) as http:
        started = time.perf_counter()
        results = await asyncio.gather(*(_client(http, env, n, log) for n in range(CLIENTS)), return_exceptions=True)
        elapsed = time.perf_counter() - started
        failures = [(label, status) for label, status, _ in log if not 200 <= status < 300]
        report = f"{len(log)} requests in {elapsed:.1f} s; " + _latencies(log) + f"; failures {failures[:10]}"
        assert not [r for r in results if isinstance(r, BaseException)], report
        assert not failures, report
        assert max(seconds for _, _, seconds in log) < MAX_LATENCY_S, report
        expected = CLIENTS * ROUNDS * EVENTS_PER_BATCH
        deadline = time.monotonic() + 30
        while (done := await _evaluated(http, env)) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert done == expected, f"{done} of {expected} events evaluated; {report}"
