"""`assay run --server`: the same suite file, run on a running Assay through its HTTP API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from assay.api.app import create_app
from tests.analysis.test_analysis_cli import server_url  # noqa: F401  (fixture)
from tests.cli_run.conftest import run_cli
from tests.conftest import make_env
from tests.engine.conftest import engine_settings  # noqa: F401  (fixture)

SUITE = """\
name: remote suite
instance:
  kind: openai_chat
  base_url: {base_url}
  model: agent-model
  api_key: sk-remote-secret-0003
evaluators:
  - type: contains
    value: refund
cases:
  - name: refund
    input: I want a refund
  - name: other
    input: hello there
"""


async def test_run_on_a_server(server_url, engine_settings, fake, tmp_path: Path):  # noqa: F811
    setup_app = create_app(engine_settings)
    try:
        tenant = await make_env(setup_app, "remote-env")
    finally:
        await setup_app.state.engine.dispose()
    (tmp_path / "suite.yaml").write_text(SUITE.format(base_url=fake.base_url))
    args = ("run", "suite.yaml", "--server", server_url, "--api-key", tenant.key, "--json", "out.json")
    r = await asyncio.to_thread(run_cli, tmp_path, *args)
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["status"] == "completed" and data["summary"]["passed"] == 1 and data["summary"]["failed"] == 1
    assert "sk-remote-secret-0003" not in r.stdout + r.stderr
    async with httpx.AsyncClient(base_url=server_url, headers=tenant.headers) as http:
        suites = (await http.get("/v1/evaluations")).json()
        assert [s["name"] for s in suites] == ["remote suite"] and suites[0]["status"] == "completed"
    r = await asyncio.to_thread(run_cli, tmp_path, "run", "suite.yaml", "--server", server_url)
    assert r.returncode == 2 and "api" in r.stderr.lower()  # a server run needs a key
