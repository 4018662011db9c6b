"""The suite page in Debian's Chromium: it loads cleanly, a case is added through the form and deleted."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.storage import runs as run_store
from assay.storage.db import make_sessionmaker
from tests.conftest import Env
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium, snapshot_of
from tests.web.test_suite_page import make_suite

pytestmark = [pytest.mark.browser, needs_chromium]

SCREENSHOTS = Path(os.environ.get("ASSAY_SCREENSHOT_DIR", "/tmp"))


async def test_add_and_delete_a_case_in_the_browser(app: Any, chromium: Any, live_url: str, env_a: Env) -> None:
    async with httpx.AsyncClient(base_url=live_url) as api:
        suite_id = await make_suite(
            api,
            env_a,
            cases=[
                {"input_message": "Where is order A1?", "expected_behavior": "Gives the status", "tags": ["orders"]},
                {"input_message": "<script>alert(1)</script>", "tags": ["hostile"]},
            ],
        )
    async with make_sessionmaker(app.state.engine)() as session:
        for i, (status, rate) in enumerate([("completed", 0.5), ("completed", 1.0), ("running", None)]):
            run = await run_store.create_run(
                session=session,
                environment_id=uuid.UUID(env_a.id),
                suite_id=uuid.UUID(suite_id),
                snapshot=snapshot_of({"cases": [{"id": "a"}, {"id": "b"}], "repetitions": 1}),
                started_by=env_a.key_id if i else None,
            )
            summary = {"pass_rate": rate, "mean_score": 60.0 + 20 * i, "latency_p50_ms": 310.0 + i}
            summary |= {"latency_p95_ms": 1200.0, "tokens_used": 800 * (i + 1), "duration_s": 4.2 if rate else None}
            await run_store.set_summary(session=session, row=run, summary=summary)
            run.status = status
            await session.commit()
    page = await chromium.new_page(viewport={"width": 1360, "height": 1000})
    problems = PageProblems(page)
    await browser_sign_in(page, live_url, env_a.key, next_url=f"/suites/{suite_id}")
    assert page.url == f"{live_url}/suites/{suite_id}"
    assert await page.locator("h1").inner_text() == "checkout agent"
    assert await page.locator("#case-count").inner_text() == "2"
    assert await page.locator("table.runs tbody tr").count() == 3
    assert await page.locator("input[name=head]:checked").count() == 1
    assert await page.locator("table.cases").get_by_text("<script>alert(1)</script>").count() == 1

    await page.click("#add-case summary")
    await page.fill("#add-input", "Cancel order B7, please")
    await page.fill("#add-expected", "Asks for confirmation")
    await page.fill("#add-calls", '[{"name": "cancel_order", "arguments": {"order_id": "B7"}}]')
    await page.fill("#add-tags", "orders, cancel")
    async with page.expect_navigation():
        await page.click("#add-case-form button[type=submit]")
    assert "notice=added" in page.url
    assert await page.locator(".alert.ok").inner_text() == "Test case added."
    assert await page.locator("#case-count").inner_text() == "3"
    row = page.locator("table.cases tr", has_text="Cancel order B7, please")
    assert await row.locator("code").inner_text() == "cancel_order"
    await page.screenshot(path=str(SCREENSHOTS / "suite-page.png"), full_page=True)

    await page.select_option("select[name=tag]", "cancel")
    async with page.expect_navigation():
        await page.click("form[role=search] button[type=submit]")
    assert await page.locator("table.cases tbody tr").count() == 1

    page.once("dialog", lambda dialog: dialog.accept())
    async with page.expect_navigation():
        await row.locator("button", has_text="Delete").click()
    assert await page.locator(".alert.ok").inner_text() == "Test case deleted."
    assert await page.locator("#case-count").inner_text() == "2"
    problems.assert_none()
