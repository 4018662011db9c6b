"""End to end in Chromium: a run started with the suite page's Run button runs against the fake LLM server
(the dispatcher of a real `assay serve`-like app), its page shows live progress, then the finished summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Env
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]


async def _suite(live_url: str, env: Env, fake_url: str, cases: int) -> str:
    async with httpx.AsyncClient(base_url=live_url, headers=env.headers, timeout=30) as api:
        instance = await api.post(
            "/v1/instances",
            json={"name": "agent", "kind": "openai_chat", "config": {"base_url": fake_url, "model": "agent-model"}},
        )
        assert instance.status_code == 201, instance.text
        recipe = await api.post(
            "/v1/recipes", json={"name": "ships", "items": [{"evaluator": {"type": "contains", "value": "ships"}}]}
        )
        assert recipe.status_code == 201, recipe.text
        suite = await api.post(
            "/v1/evaluations",
            json={"name": "live suite", "instance_id": instance.json()["id"], "recipe_id": recipe.json()["id"]},
        )
        assert suite.status_code == 201, suite.text
        suite_id = suite.json()["id"]
        for i in range(cases):
            case = await api.post(
                f"/v1/evaluations/{suite_id}/test-cases", json={"input_message": f"Where is order {i}?"}
            )
            assert case.status_code in (200, 201), case.text
        return str(suite_id)


async def test_a_run_started_from_the_ui_shows_progress_then_its_summary(
    chromium: Any, live_url: str, env_a: Env, fake: Any, tmp_path: Path
) -> None:
    fake.set_scenario({"latency_ms": 250, "default_reply": "Your order ships today."})
    suite_id = await _suite(live_url, env_a, fake.base_url, cases=16)
    page = await chromium.new_page(viewport={"width": 1400, "height": 1000})
    problems = PageProblems(page)
    await browser_sign_in(page, live_url, env_a.key, next_url=f"/suites/{suite_id}")
    await page.fill("#run-form input[name=concurrency]", "1")
    async with page.expect_navigation():
        await page.click("#run-form button[type=submit]")
    assert "/runs/" in page.url
    run_id = page.url.rsplit("/", 1)[1]

    # While it runs: the progress bar moves (Server-Sent Events), short of the total.
    await page.wait_for_function(
        "() => { const p = document.getElementById('run-progress');"
        " return p && Number(p.value) > 0 && Number(p.value) < Number(p.max); }",
        timeout=30_000,
    )
    await page.screenshot(path=str(tmp_path / "running.png"))
    # When it ends: the bar goes and the summary of the finished run is on the page.
    await page.wait_for_selector("#run-progress", state="detached", timeout=60_000)
    summary = await page.locator("#run-summary").inner_text()
    assert await page.locator(".page-head .status").inner_text() == "completed"
    assert "100.0 %" in summary and "16 passed" in summary
    async with httpx.AsyncClient(base_url=live_url, headers=env_a.headers, timeout=30) as api:
        task = (await api.get(f"/v1/tasks/{run_id}")).json()
    assert task["status"] == "completed" and task["progress"]["completed"] == 16
    assert task["summary"]["passed"] == 16
    assert await page.locator("table.results-table tbody tr").count() == 16
    problems.assert_none()
