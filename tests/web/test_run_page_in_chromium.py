"""The run page and the result detail in Debian's Chromium: no console errors, live progress, text stays text."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from assay.storage import runs as run_store
from assay.storage.run_execution import record_finish
from assay.storage.types import utcnow
from tests.conftest import Env
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium
from tests.web.run_data import HOSTILE, seed_run

pytestmark = [pytest.mark.browser, needs_chromium]
SCREENSHOTS = Path("/tmp/assay-run-page")


async def test_run_page_and_detail_load_cleanly(chromium: Any, live_url: str, app: Any, env_a: Env) -> None:
    run = await seed_run(app.state.sessionmaker, uuid.UUID(env_a.id), 140)
    page = await chromium.new_page(viewport={"width": 1400, "height": 1000})
    problems = PageProblems(page)
    await browser_sign_in(page, live_url, env_a.key, next_url=f"/runs/{run.run_id}")
    assert page.url == f"{live_url}/runs/{run.run_id}"
    await page.wait_for_load_state("load")
    assert await page.locator("table.results-table tbody tr").count() == 50
    assert await page.locator("svg.score-chart").count() == 1
    table_text = await page.locator("table.results-table").inner_text()
    assert HOSTILE in table_text  # shown as text, not run or rendered
    assert await page.locator("table.results-table b").count() == 0
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "run.png"), full_page=True)

    await page.select_option("select[name=status]", "failed")
    async with page.expect_navigation():
        await page.click("form.toolbar button[type=submit]")
    assert "status=failed" in page.url
    statuses = await page.locator("table.results-table tbody .status").all_inner_texts()
    assert statuses and set(statuses) == {"failed"}

    async with page.expect_navigation():
        await page.locator("table.results-table tbody tr a").first.click()
    assert "/results/" in page.url
    await page.screenshot(path=str(SCREENSHOTS / "result.png"), full_page=True)
    assert await page.locator("h2", has_text="Verdicts").count() == 1
    problems.assert_none()


async def test_live_progress_then_the_finished_summary(chromium: Any, live_url: str, app: Any, env_a: Env) -> None:
    run = await seed_run(app.state.sessionmaker, uuid.UUID(env_a.id), 30, status="running", stored=12)
    page = await chromium.new_page(viewport={"width": 1400, "height": 1000})
    problems = PageProblems(page)
    await browser_sign_in(page, live_url, env_a.key, next_url=f"/runs/{run.run_id}")
    assert await page.locator("#run-progress").get_attribute("value") == "12"
    await page.wait_for_function("document.getElementById('run-live-status').textContent === 'running'")
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "run-live.png"))
    async with app.state.sessionmaker() as session:
        row = await run_store.get_run(session=session, environment_id=uuid.UUID(env_a.id), run_id=run.run_id)
        summary = {"total": 30, "completed": 12, "error": 1, "passed": 6, "failed": 3, "pass_rate": 0.6}
        await record_finish(session=session, row=row, status="completed", finished_at=utcnow(), summary=summary)
        await session.commit()
    await page.wait_for_selector("#run-progress", state="detached", timeout=15_000)
    assert "completed" in await page.locator(".page-head").inner_text()
    assert "60.0 %" in await page.locator("#run-summary").inner_text()
    problems.assert_none()
