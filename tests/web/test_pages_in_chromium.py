"""The sign-in and suites pages and the offline API docs in Debian's Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Env
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]


async def test_sign_in_then_suites_then_sign_out(chromium: Any, live_url: str, env_a: Env, tmp_path: Path) -> None:
    page = await chromium.new_page()
    problems = PageProblems(page)
    await page.goto(f"{live_url}/")
    assert page.url.startswith(f"{live_url}/login")
    await browser_sign_in(page, live_url, env_a.key)
    assert page.url == f"{live_url}/"
    assert await page.locator("h1").inner_text() == "Suites"
    assert env_a.name in await page.locator(".whoami").inner_text()
    await page.screenshot(path=str(tmp_path / "suites.png"))
    async with page.expect_navigation():
        await page.click("text=Sign out")
    assert page.url == f"{live_url}/login"
    await page.goto(f"{live_url}/")
    assert page.url.startswith(f"{live_url}/login")
    problems.assert_none()


async def test_api_docs_render_with_the_network_blocked(chromium: Any, live_url: str) -> None:
    context = await chromium.new_context()
    outside: list[str] = []

    async def only_local(route: Any) -> None:
        if route.request.url.startswith(live_url):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_local)
    page = await context.new_page()
    problems = PageProblems(page)
    await page.goto(f"{live_url}/docs")
    await page.wait_for_selector(".opblock-tag", timeout=20_000)
    assert "Assay" in await page.locator(".info .title").inner_text()
    assert await page.locator(".opblock").count() > 20
    assert outside == []
    problems.assert_none()
    await context.close()
