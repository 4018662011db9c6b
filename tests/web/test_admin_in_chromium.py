"""The administration page in Debian's Chromium: it loads cleanly, a key is created and shown once, the project
token is rotated after the confirmation, a provider key is added with its secret masked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Env
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]

SCREENSHOTS = Path(os.environ.get("ASSAY_SCREENSHOT_DIR", "/tmp"))


async def test_the_admin_page_in_the_browser(chromium: Any, live_url: str, env_a: Env) -> None:
    page = await chromium.new_page(viewport={"width": 1360, "height": 1000})
    problems = PageProblems(page)
    await browser_sign_in(page, live_url, env_a.key, next_url="/admin")
    assert page.url == f"{live_url}/admin"
    assert await page.locator("#project-token").inner_text() == env_a.project_token
    assert await page.locator("table.keys tbody tr").count() == 1

    await page.click("#create-key summary")
    await page.fill("#key-name", "<i>ci</i>")
    await page.check("input[name=scope][value='evaluation:read']")
    await page.check("input[name=scope][value='event:write']")
    async with page.expect_navigation():
        await page.click("#create-key-form button[type=submit]")
    key = await page.locator("#new-key-value").inner_text()
    await page.click("#create-key summary")
    await page.screenshot(path=str(SCREENSHOTS / "admin-new-key.png"), full_page=True)
    assert key.startswith("asy_")
    assert await page.locator("table.keys tbody tr").count() == 2
    assert await page.locator("table.keys").get_by_text("<i>ci</i>").count() == 1
    async with httpx.AsyncClient(base_url=live_url) as api:
        assert (await api.get("/v1/evaluations", headers={"Authorization": f"Bearer {key}"})).status_code == 200

    await page.click("#add-provider-key summary")
    await page.select_option("#provider", "anthropic")
    await page.fill("#provider-name", "judge")
    await page.fill("#provider-api-key", "sk-ant-0123456789abcdef")
    async with page.expect_navigation():
        await page.click("#provider-key-form button[type=submit]")
    assert await page.locator("code.mask").inner_text() == "sk-…cdef"
    assert await page.locator("#new-key-value").count() == 0  # the key was shown once only

    page.once("dialog", lambda dialog: dialog.accept())
    async with page.expect_navigation():
        await page.click("#rotate-form button[type=submit]")
    new_token = await page.locator("#project-token").inner_text()
    assert new_token != env_a.project_token
    async with httpx.AsyncClient(base_url=live_url) as api:
        old = await api.post(
            "/batch/", json={"api_key": env_a.project_token, "batch": [{"event": "x", "distinct_id": "u"}]}
        )
        assert old.status_code == 401
    await page.screenshot(path=str(SCREENSHOTS / "admin-page.png"), full_page=True)
    problems.assert_none()
