"""`assay compare` and `assay agreement` through the entry point, against a uvicorn server in a thread."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from assay.api.app import create_app
from assay.settings import Settings
from assay.testing.fake_llm.server import free_port
from tests.analysis.helpers import make_two_runs
from tests.conftest import make_env


@pytest.fixture
def server_url(engine_settings: Settings) -> Iterator[str]:
    """The app (with its dispatcher) served by uvicorn on a free port, in a thread of its own."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine_settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


async def entry_point(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command line, in a process of its own."""
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1"}
    env.pop("ASSAY_API_KEY", None)
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "assay.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


async def cli(*args: str) -> Outcome:
    """The same Typer app in-process (a process start costs seconds), with a wide terminal."""
    from assay.cli.main import app

    runner = CliRunner(env={"COLUMNS": "250", "NO_COLOR": "1", "ASSAY_API_KEY": None, "ASSAY_SERVER_URL": None})
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    return Outcome(result.exit_code, result.stdout, result.stderr)


async def test_compare_and_agreement_cli(server_url, engine_settings, fake):
    setup_app = create_app(engine_settings)
    try:
        tenant = await make_env(setup_app, "cli-env")
    finally:
        await setup_app.state.engine.dispose()
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as client:
        runs = await make_two_runs(client, tenant, fake)
        auth = ("--server", server_url, "--api-key", tenant.key)

        r = await entry_point("compare", runs.base, runs.head, *auth, "--json")
        assert r.returncode == 0, r.stderr
        body = json.loads(r.stdout)
        assert body["significant_regression"] is True and body["score"]["mean_difference"] == pytest.approx(-75)
        assert body["evaluation_id"] == runs.suite_id

        r = await entry_point("compare", runs.base, runs.head, *auth, "--fail-on-regression")
        assert r.returncode == 1, r.stderr
        assert "significant regression" in r.stdout and "Regressed (10)" in r.stdout and "Improved (1)" in r.stdout
        assert "1 only in head" in r.stdout and "-75.00" in r.stdout

        strict = ("--fail-on-regression", "--alpha", "0.01", "--evaluation", runs.suite_id)
        r = await cli("compare", runs.base, runs.head, *auth, *strict)
        assert r.returncode == 0, r.stderr
        assert "no significant regression" in r.stdout
        r = await cli("compare", runs.head, runs.base, *auth, "--fail-on-regression", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["significant_regression"] is False

        assert (await cli("compare", "nope", runs.head, *auth)).returncode == 2
        unknown = await cli("compare", runs.base, runs.suite_id, *auth)
        assert unknown.returncode == 2 and "404" in unknown.stderr
        assert (await cli("compare", runs.base, runs.head, *auth, "--alpha", "0")).returncode == 2
        assert (
            await cli("compare", runs.base, runs.head, "--server", server_url, "--api-key", "wrong")
        ).returncode == 2
        assert (await cli("compare", runs.base)).returncode == 2
        dead = await cli(
            "compare", runs.base, runs.head, "--server", f"http://127.0.0.1:{free_port()}", "--api-key", "k"
        )
        assert dead.returncode == 3 and "cannot reach" in dead.stderr

        results = (
            await client.get(
                f"/v1/evaluations/{runs.suite_id}/results", params={"task_id": runs.head}, headers=tenant.headers
            )
        ).json()
        overridden = next(x for x in results if x["test_case_id"] == runs.case_ids["c0"])
        r = await client.patch(
            f"/v1/evaluations/{runs.suite_id}/results/{overridden['id']}", json={"score": 95}, headers=tenant.headers
        )
        assert r.status_code == 200

        r = await entry_point("agreement", runs.suite_id, *auth, "--json")
        assert r.returncode == 0, r.stderr
        body = json.loads(r.stdout)
        judge = next(e for e in body["evaluators"] if e["evaluator"] == "llm_judge")
        assert (
            judge["human"]["n"] == 1
            and judge["human"]["agreement_rate"] == 0
            and judge["human"]["mean_absolute_error"] == 95
        )
        r = await cli("agreement", runs.suite_id, *auth, "--task", runs.head)
        assert r.returncode == 0 and "llm_judge" in r.stdout and "1 reviewed results" in r.stdout
        assert (await cli("agreement", "bad-id", *auth)).returncode == 2
        assert (await cli("agreement", runs.suite_id, *auth, "--task", runs.suite_id)).returncode == 2
