"""People in Debian's Chromium: an admin signs in with email and password, invites a reviewer from the People
section, and the reviewer joins through the link and is signed in."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from assay.settings import Settings
from tests.conftest import Env
from tests.web.conftest import PageProblems, needs_chromium
from tests.web.people_data import PASSWORD, cheap_hashing_settings, make_person

pytestmark = [pytest.mark.browser, needs_chromium]

SCREENSHOTS = Path(os.environ.get("ASSAY_SCREENSHOT_DIR", "/tmp"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return cheap_hashing_settings(database_url)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sign_in_invite_and_join_in_the_browser(chromium: Any, app: Any, live_url: str, env_a: Env) -> None:
    await make_person(app, env_a.id, "ada@example.com", "Ada Admin", "admin")
    page = await chromium.new_page(viewport={"width": 1360, "height": 900})
    problems = PageProblems(page)
    await page.goto(f"{live_url}/login?next=/admin")
    await page.screenshot(path=str(SCREENSHOTS / "people-sign-in.png"), full_page=True)
    await page.fill("#email", "ada@example.com")
    await page.fill("#password", PASSWORD)
    async with page.expect_navigation():
        await page.click("#account-form button[type=submit]")
    assert page.url == f"{live_url}/admin"
    assert await page.locator(".whoami .key").inner_text() == "Ada Admin"

    await page.click("#invite-person summary")
    await page.fill("#invite-email", "rita@example.com")
    await page.select_option("#invite-role", "reviewer")
    async with page.expect_navigation():
        await page.click("#invite-form button[type=submit]")
    link = await page.locator("#new-invite-url").inner_text()
    assert link.startswith(f"{live_url}/invite/")
    assert await page.locator("table.invites tbody tr").count() == 1
    await page.locator("#people").screenshot(path=str(SCREENSHOTS / "people-section.png"))
    problems.assert_none()

    joining = await (await chromium.new_context(viewport={"width": 1360, "height": 900})).new_page()
    joining_problems = PageProblems(joining)
    await joining.goto(link)
    await joining.fill("#name", "Rita Reviewer")
    await joining.fill("#password", "rita's long password")
    async with joining.expect_navigation():
        await joining.click("#invite-accept-form button[type=submit]")
    assert joining.url == f"{live_url}/"
    assert await joining.locator(".whoami .key").inner_text() == "Rita Reviewer"
    joining_problems.assert_none()

    await page.goto(f"{live_url}/admin")
    assert await page.locator("table.people tbody tr").count() == 2
    assert await page.locator("table.invites").count() == 0
    await page.locator("#people").screenshot(path=str(SCREENSHOTS / "people-section-joined.png"))
    problems.assert_none()
