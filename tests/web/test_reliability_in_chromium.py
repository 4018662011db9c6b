"""The judge reliability page in Debian's Chromium: loads cleanly with reviews and repetitions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import engine_client, engine_settings, running_app, tenant  # noqa: F401
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium
from tests.web.review_data import api_results, make_review_run

pytestmark = [pytest.mark.browser, needs_chromium]


async def test_reliability_page_loads_and_shows_each_evaluator(
    chromium: Any,
    live_url: str,
    engine_client,  # noqa: ANN001, F811
    tenant,  # noqa: ANN001, F811
    fake,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    run = await make_review_run(engine_client, tenant, fake)
    for result_id, score in zip(await api_results(engine_client, tenant, run), (90, 20, 10, 100, 80), strict=False):
        answer = await engine_client.patch(
            f"/v1/evaluations/{run.suite_id}/results/{result_id}", json={"score": score}, headers=tenant.headers
        )
        assert answer.status_code == 200
    page = await chromium.new_page()
    problems = PageProblems(page)
    url = f"/suites/{run.suite_id}/reliability"
    await browser_sign_in(page, live_url, tenant.key, next_url=url)
    assert page.url == f"{live_url}{url}"
    assert await page.locator("h1").inner_text() == "Judge reliability"
    assert await page.locator("section.evaluator").count() == 2
    assert await page.locator("table.confusion").count() == 2
    await page.screenshot(path=str(tmp_path / "reliability.png"), full_page=True)
    problems.assert_none()
