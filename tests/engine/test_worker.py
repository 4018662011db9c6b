"""`assay worker` executes queued runs from the shared database without serving HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from assay.api.app import create_app
from assay.settings import Settings
from tests.engine.conftest import create_instance, create_suite, wait_for_task

# Subprocesses and long property runs: on a loaded 2-core machine these take minutes, not seconds.
pytestmark = pytest.mark.timeout(360)


@pytest.mark.slow
async def test_separate_worker_process_runs_what_the_api_queued(database_url, fake, tmp_path):
    import httpx

    from tests.conftest import make_env

    settings = Settings(database_url=database_url, workers=0, secret_key="shared-secret", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)  # serves the API only: no background workers in this process
    env = await make_env(app, "worker-env")
    env_vars = {**os.environ, "ASSAY_DATABASE_URL": database_url, "ASSAY_SECRET_KEY": "shared-secret"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assay.cli", "worker"], env=env_vars, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            instance_id = await create_instance(client, env, fake)
            cases = [{"input_message": f"q{i}", "expected_tool_calls": [{"name": "none"}]} for i in range(5)]
            suite_id = await create_suite(client, env, instance_id=instance_id, cases=cases)
            task_id = (await client.post(f"/v1/evaluations/{suite_id}/run", headers=env.headers)).json()["task_id"]
            task = await wait_for_task(client, env, task_id, timeout=60)
            assert task["status"] == "completed" and task["progress"]["completed"] == 5
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=20) == 0
        finally:
            proc.kill()
        await app.state.engine.dispose()
        await asyncio.sleep(0)
