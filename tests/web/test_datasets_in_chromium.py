"""The dataset pages in Debian's Chromium: they load cleanly, an item is added through the form, and a suite is
built from the dataset."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Env
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium
from tests.web.test_datasets_page import api_dataset, api_item

pytestmark = [pytest.mark.browser, needs_chromium]

SCREENSHOTS = Path(os.environ.get("ASSAY_SCREENSHOT_DIR", "/tmp"))


async def test_dataset_pages_in_the_browser(chromium: Any, live_url: str, env_a: Env) -> None:
    async with httpx.AsyncClient(base_url=live_url) as api:
        dataset_id = await api_dataset(api, env_a, "support questions", description="Real tickets, anonymised.")
        await api_dataset(api, env_a, "billing")
        await api_item(
            api,
            env_a,
            dataset_id,
            input=[{"role": "user", "content": "Where is order A1?"}],
            output="It shipped on Monday.",
            metadata={"tags": ["orders"]},
            ref_trace_id="trace-a1",
        )
        await api_item(api, env_a, dataset_id, input={"content": "<script>alert(1)</script>"})
        instance = await api.post(
            "/v1/instances",
            json={
                "name": "support bot",
                "kind": "openai_chat",
                "config": {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
            },
            headers=env_a.headers,
        )
        assert instance.status_code == 201, instance.text

    page = await chromium.new_page(viewport={"width": 1360, "height": 1000})
    problems = PageProblems(page)
    await browser_sign_in(page, live_url, env_a.key, next_url="/datasets")
    assert page.url == f"{live_url}/datasets"
    assert await page.locator("table.datasets tbody tr").count() == 2
    await page.screenshot(path=str(SCREENSHOTS / "datasets-list.png"), full_page=True)

    await page.click("text=support questions")
    assert await page.locator("h1").inner_text() == "support questions"
    assert await page.locator("table.items tbody tr").count() == 2
    assert await page.locator('a[href="/traces/trace-a1"]').count() == 1
    await page.locator("table.items tbody tr").nth(1).locator("details").first.locator("summary").click()
    assert await page.locator("table.items").get_by_text("<script>alert(1)</script>").count() == 1

    await page.click("#add-item summary")
    await page.fill("#add-input", '"Cancel order B7"')
    await page.fill("#add-output", '"Asks for confirmation"')
    await page.click("#add-item-form button[type=submit]")
    await page.wait_for_url(f"{live_url}/datasets/{dataset_id}?notice=item-added")
    assert await page.locator("table.items tbody tr").count() == 3
    await page.locator("table.items tbody tr").first.locator("details").first.locator("summary").click()
    await page.screenshot(path=str(SCREENSHOTS / "dataset-items.png"), full_page=True)

    await page.fill("#suite-name", "support suite")
    await page.click("#suite-form button[type=submit]")
    await page.wait_for_url(f"{live_url}/suites/*")
    assert await page.locator("h1").inner_text() == "support suite"
    problems.assert_none()
