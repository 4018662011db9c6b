"""The events, event and trace pages in Debian's Chromium: no console errors, and the live tail shows an event the
real posthog SDK sends while the page is open."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from posthog import Posthog

from tests.conftest import Env
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium
from tests.web.test_events_pages import HOSTILE, capture, evaluation_of, tool_conversation

pytestmark = [pytest.mark.browser, needs_chromium]
SCREENSHOTS = Path("/tmp/assay-events-pages")


async def test_events_pages_and_the_live_tail(
    chromium: Any, live_url: str, env_a: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POSTHOG_CAPTURE_MODE", raising=False)
    target = tool_conversation(**{"$ai_trace_id": "browser-trace"})
    span = {
        "event": "$ai_span",
        "distinct_id": "user-1",
        "uuid": str(uuid.uuid4()),
        "properties": {
            "$ai_trace_id": "browser-trace",
            "$ai_span_id": "s1",
            "$ai_span_name": "lookup",
            "$ai_latency": 1,
        },
    }
    target["properties"]["$ai_parent_id"] = "s1"
    verdict = evaluation_of(target, name="grounded", result=False, reasoning=f"Made up {HOSTILE}")
    async with httpx.AsyncClient(base_url=live_url) as http:
        await capture(http, env_a, [span, target, verdict])

    page = await chromium.new_page(viewport={"width": 1400, "height": 1000})
    problems = PageProblems(page)
    await browser_sign_in(page, live_url, env_a.key, next_url="/events")
    assert page.url == f"{live_url}/events"
    # a locator waits without evaluating a string in the page (the CSP forbids eval)
    await page.locator("#tail-status", has_text="live").wait_for()
    assert await page.locator("#events-body tr").count() == 1

    ph = Posthog(env_a.project_token, host=live_url, sync_mode=True, max_retries=0)
    props = {"$ai_trace_id": "sdk-live", "$ai_model": "sdk-model", "$ai_input": "hi", "$ai_output_choices": "hello"}
    sent = await asyncio.to_thread(ph.capture, "$ai_generation", distinct_id="sdk-user", properties=props)
    await asyncio.to_thread(ph.shutdown)
    await page.wait_for_selector(f'#events-body tr a[href="/events/{sent}"]', timeout=15_000)
    assert await page.locator("#events-body tr").count() == 2
    assert "sdk-model" in await page.locator("#events-body tr").first.inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "events.png"), full_page=True)

    async with page.expect_navigation():
        await page.locator(f'#events-body a[href="/events/{target["uuid"]}"]').click()
    assert await page.locator(".turn").count() == 5
    assert HOSTILE in await page.locator("#transcript").inner_text()
    assert HOSTILE in await page.locator("#verdicts").inner_text()
    assert await page.locator("#transcript b, #verdicts b").count() == 0
    await page.screenshot(path=str(SCREENSHOTS / "event.png"), full_page=True)

    await page.goto(f"{live_url}/traces/browser-trace")
    assert await page.locator("svg.timeline rect").count() == 2
    assert await page.locator("#tree li").count() == 2
    await page.screenshot(path=str(SCREENSHOTS / "trace.png"), full_page=True)
    problems.assert_none()
