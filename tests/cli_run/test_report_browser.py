"""The HTML report in headless Chromium: charts and table render, no console errors, a screenshot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli_run.conftest import run_cli

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.mark.browser
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing (apt-get install -y chromium)")
def test_report_renders_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    r = run_cli(tmp_path, "demo", "--html", "report.html", timeout=90)
    assert r.returncode == 0, r.stderr
    messages: list[str] = []
    failed: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
            page.on("requestfailed", lambda req: failed.append(req.url))
            page.goto((tmp_path / "report.html").as_uri())
            for selector in ("svg.score-chart", "svg.latency-chart"):
                box = page.locator(selector).bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 150, selector
            bars = page.locator("svg.score-chart rect.bar")
            assert bars.count() == 10
            heights = [float(bars.nth(i).get_attribute("height") or 0) for i in range(10)]
            assert max(heights) > 50  # most cases score 100: the last bar is tall
            rows = page.locator("#results tbody tr")
            assert rows.count() == 16
            assert page.locator("#results details.transcript").count() == 3
            assert page.locator("#results tbody tr.failed").count() == 2
            assert rows.first.locator("td").count() == 10 and rows.first.is_visible()
            assert "Pass rate" in page.locator("#summary").inner_text()
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert messages == [] and failed == []
    assert (tmp_path / "report.png").stat().st_size > 10_000
