"""A server killed with SIGKILL mid-run resumes the run after restart without re-calling stored cases."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select

from assay.api.app import create_app
from assay.settings import Settings
from assay.storage.db import make_engine, make_sessionmaker
from assay.storage.run_tables import ResultRow
from assay.testing.fake_llm import free_port
from tests.conftest import make_env

# Subprocesses and long property runs: on a loaded 2-core machine these take minutes, not seconds.
pytestmark = pytest.mark.timeout(360)


def start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ASSAY_DATABASE_URL": database_url,
        "ASSAY_SECRET_KEY": "crash-test-secret",
        "ASSAY_RUN_LEASE_SECONDS": "2",
        "ASSAY_LOG_LEVEL": "warning",
    }
    for name in ("ASSAY_JUDGE_MODEL", "ASSAY_JUDGE_BASE_URL", "ASSAY_JUDGE_API_KEY"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "assay.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "server exited"
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


async def stored_case_ids(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return {str(c) for c in await session.scalars(select(ResultRow.test_case_id))}
    finally:
        await engine.dispose()


async def results_per_case(database_url: str) -> Counter[str]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = await session.execute(select(ResultRow.test_case_id, func.count()).group_by(ResultRow.test_case_id))
            return Counter({str(case): n for case, n in rows.all()})
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_sigkill_mid_run_then_restart_completes_without_repeating_calls(database_url, fake):
    fake.set_scenario({"latency_ms": 150})
    app = create_app(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    env = await make_env(app, "crash")
    await app.state.engine.dispose()

    port = free_port()
    server = await asyncio.to_thread(start_server, database_url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, headers=env.headers, timeout=30) as http:
            instance = {
                "name": "a",
                "kind": "openai_chat",
                "config": {"base_url": fake.base_url, "model": "agent-model", "api_key": "sk-x"},
            }
            instance_id = (await http.post("/v1/instances", json=instance)).json()["id"]
            suite = {"name": "crash", "instance_id": instance_id, "config": {"concurrency": 4}}
            suite_id = (await http.post("/v1/evaluations", json=suite)).json()["id"]
            cases = {}
            for i in range(40):
                body = {"input_message": f"case number {i}", "expected_tool_calls": [{"name": "lookup"}]}
                cases[(await http.post(f"/v1/evaluations/{suite_id}/test-cases", json=body)).json()["id"]] = body
            task_id = (await http.post(f"/v1/evaluations/{suite_id}/run")).json()["task_id"]
            for _ in range(300):
                progress = (await http.get(f"/v1/tasks/{task_id}")).json()["progress"]
                if progress["completed"] >= 10:
                    break
                await asyncio.sleep(0.05)
            assert progress["completed"] >= 10
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)

        before_kill = await stored_case_ids(database_url)
        assert 10 <= len(before_kill) < 40

        server = await asyncio.to_thread(start_server, database_url, port)
        async with httpx.AsyncClient(base_url=base, headers=env.headers, timeout=30) as http:
            for _ in range(600):
                task = (await http.get(f"/v1/tasks/{task_id}")).json()
                if task["status"] == "completed":
                    break
                await asyncio.sleep(0.1)
            assert task["status"] == "completed", task
            assert task["progress"]["completed"] == 40
    finally:
        server.kill()
        server.wait(timeout=10)

    per_case = await results_per_case(database_url)
    assert set(per_case) == set(cases) and set(per_case.values()) == {1}
    calls = Counter(entry["last_user"] for entry in fake.requests())
    for case_id in before_kill:
        assert calls[cases[case_id]["input_message"]] == 1, cases[case_id]
    assert all(calls[body["input_message"]] >= 1 for body in cases.values())
