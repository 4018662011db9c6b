"""`evaluate(..., server=...)`: an `openai_chat` agent evaluated on a running Assay, the run stored there."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from assay.api.app import create_app
from assay.evals import Case, check, evaluate
from tests.analysis.test_analysis_cli import server_url  # noqa: F401  (fixture)
from tests.conftest import _sqlite_url, make_env
from tests.engine.conftest import engine_settings  # noqa: F401  (fixture)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the server side is `assay run --server`'s, tested on both databases."""
    return _sqlite_url(tmp_path)


async def test_evaluate_on_a_server(server_url, engine_settings, fake) -> None:  # noqa: ANN001, F811
    setup_app = create_app(engine_settings)
    try:
        tenant = await make_env(setup_app, "evals-remote")
    finally:
        await setup_app.state.engine.dispose()
    agent = {"kind": "openai_chat", "base_url": fake.base_url, "model": "agent-model", "api_key": "sk-evals-0004"}
    report = await evaluate(
        [Case("I want a refund", name="refund"), Case("hello there", name="other")],
        agent=agent,
        evaluators=[check("contains", value="refund")],
        name="remote evals",
        server=server_url,
        api_key=tenant.key,
    )
    assert report.status == "completed" and report.stored_in == server_url
    assert (report.summary.passed, report.summary.failed) == (1, 1)
    async with httpx.AsyncClient(base_url=server_url, headers=tenant.headers) as http:
        suites = (await http.get("/v1/evaluations")).json()
    assert [s["name"] for s in suites] == ["remote evals"] and suites[0]["status"] == "completed"
