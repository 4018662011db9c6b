"""Web UI fixtures: sign a client in through the real sign-in form."""

from __future__ import annotations

import re
from typing import Any

import httpx

from assay.domain.runs import RunSnapshot


def snapshot_of(data: dict[str, Any]) -> RunSnapshot:
    """A run snapshot from a few fields (an empty instance, cases with empty input unless given), for stored runs."""
    cases = [{"input_message": "", **c} for c in data.get("cases", [])]
    return RunSnapshot.from_json({"instance": "", **data, "cases": cases})


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _TOKEN.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, key: str, *, next_url: str = "/") -> str:
    """Sign in with `key` through the form; returns the session's CSRF token (from the page signed in to)."""
    page = await client.get("/login", params={"next": next_url})
    assert page.status_code == 200, page.text
    answer = await client.post("/login", data={"api_key": key, "csrf_token": form_token(page.text), "next": next_url})
    assert answer.status_code == 303, answer.text
    home = await client.get(answer.headers["location"])
    assert home.status_code == 200, home.text
    return form_token(home.text)


# Browser tests: Debian's Chromium through Playwright's async API, against a real uvicorn (`live_url`).

import os  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402

import pytest  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
needs_chromium = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing")


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium for one test."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


class PageProblems:
    """Console errors, page errors, failed requests and 4xx/5xx answers seen by a page; `assert_none()` at the end."""

    def __init__(self, page: Any, *, allowed_statuses: tuple[int, ...] = ()) -> None:
        self.messages: list[str] = []
        page.on("console", lambda m: self.messages.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.messages.append(f"pageerror: {e}"))
        # A request the browser itself cancels (a navigation started meanwhile) is not a failure of the page.
        page.on(
            "requestfailed",
            lambda r: (
                self.messages.append(f"failed: {r.url} {r.failure}") if "ERR_ABORTED" not in str(r.failure) else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                self.messages.append(f"HTTP {r.status}: {r.url}")
                if r.status >= 400 and r.status not in allowed_statuses
                else None
            ),
        )

    def assert_none(self) -> None:
        assert self.messages == []


async def browser_sign_in(page: Any, base_url: str, key: str, *, next_url: str = "/") -> None:
    """Sign in through the form in the browser and wait for the page it leads to."""
    await page.goto(f"{base_url}/login?next={next_url}")
    await page.fill("#api_key", key)
    async with page.expect_navigation():
        await page.click("#api-key-form button[type=submit]")
