"""The comparison page in Debian's Chromium: no console errors or failed requests, the API's numbers on
screen, a case's word diff shown as text, and picking another run compares at once."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Env
from tests.web.compare_data import result, store_runs
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]

SCREENSHOTS = "/tmp/assay-compare"


async def test_compare_page_in_chromium(chromium: Any, live_url: str, app, env_a: Env) -> None:  # noqa: ANN001
    hostile = "<script>document.title='pwned'</script> Your refund is on its way."
    oldest = [result(i, 80.0) for i in range(30)]
    base = [
        result(i, s, rep=r, response=hostile if i == 0 else "") for i in range(30) for r, s in enumerate((90.0, 80.0))
    ]
    head = [
        result(
            i,
            s - (30 if i < 12 else 0) + (10 if 20 <= i < 25 else 0),
            rep=r,
            response="Refund refused." if i == 0 else "",
        )
        for i in range(28)
        for r, s in enumerate((90.0, 80.0))
    ]
    stored = await store_runs(app, env_a.id, [oldest, base, head], cases=30)
    _, base_id, head_id = stored.run_ids
    async with httpx.AsyncClient(base_url=live_url) as http:
        api = (
            await http.get(
                f"/v1/evaluations/{stored.suite_id}/compare",
                params={"base": base_id, "head": head_id},
                headers=env_a.headers,
            )
        ).json()

    page = await chromium.new_page(viewport={"width": 1300, "height": 1000})
    problems = PageProblems(page)
    url = f"/suites/{stored.suite_id}/compare"
    await browser_sign_in(page, live_url, env_a.key, next_url=url)
    assert page.url == f"{live_url}{url}"
    assert await page.locator("#verdict").inner_text() == "Significant regression"

    async def shown(element_id: str) -> Any:
        return json.loads(await page.locator(f"#{element_id}").get_attribute("data-value"))

    assert await shown("mean-difference") == api["score"]["mean_difference"]
    assert (await shown("ci-low"), await shown("ci-high")) == (api["score"]["ci_low"], api["score"]["ci_high"])
    assert await shown("wilcoxon-p") == api["wilcoxon"]["p_value"]
    assert await shown("count-regressed") == len(api["regressed"]) == 12
    assert await shown("noise-mean-band") is not None
    assert await page.locator("svg.ci-chart rect.ci").count() == 1
    await page.screenshot(path=f"{SCREENSHOTS}-page.png", full_page=True)

    async with page.expect_navigation():
        await page.click("#show-unpaired")
    assert await page.locator("#compare-cases tbody tr").count() == 2

    await page.goto(f"{live_url}{url}?base={base_id}&head={head_id}&show=regressed")
    async with page.expect_navigation():
        await page.locator("#compare-cases tbody tr").first.locator("a").click()
    assert "/compare/cases/" in page.url
    first_response = page.locator(".compare-pair .response").first
    assert "<script>document.title='pwned'</script>" in await first_response.inner_text()
    assert await page.title() != "pwned"
    assert await page.locator(".compare-pair del.diff-del").count() >= 1
    assert await page.locator(".compare-pair ins.diff-add").count() >= 1
    await page.screenshot(path=f"{SCREENSHOTS}-case.png", full_page=True)

    await page.goto(f"{live_url}{url}")
    async with page.expect_navigation():
        await page.select_option("#base-select", stored.run_ids[0])
    assert f"base={stored.run_ids[0]}" in page.url
    assert await page.locator("#verdict").count() == 1
    problems.assert_none()
