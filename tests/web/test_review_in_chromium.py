"""The review queue in Debian's Chromium: the keyboard flow stores overrides the API returns, undo, read-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import add_key
from tests.engine.conftest import engine_client, engine_settings, running_app, tenant  # noqa: F401
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium
from tests.web.review_data import HOSTILE_RESPONSE, api_agreement, api_results, make_review_run

pytestmark = [pytest.mark.browser, needs_chromium]


async def shown(page: Any) -> str:
    return await page.locator("#review-panel").get_attribute("data-result-id")


async def wait_for_other(page: Any, previous: str) -> str:
    await page.wait_for_function(
        "(id) => document.getElementById('review-panel').dataset.resultId !== id", arg=previous
    )
    return await shown(page)


async def test_keyboard_review_saves_advances_and_undoes(
    chromium: Any,
    live_url: str,
    engine_client,  # noqa: ANN001, F811
    tenant,  # noqa: ANN001, F811
    fake,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    run = await make_review_run(engine_client, tenant, fake)
    page = await chromium.new_page()
    problems = PageProblems(page)
    review = f"/runs/{run.task_id}/review"
    await browser_sign_in(page, live_url, tenant.key, next_url=review)
    assert page.url == f"{live_url}{review}"
    assert await page.title() != "owned"
    first = await shown(page)
    await page.keyboard.press("?")
    assert await page.locator("#shortcuts").evaluate("d => d.open")
    await page.screenshot(path=str(tmp_path / "review-shortcuts.png"))
    await page.keyboard.press("Escape")
    assert not await page.locator("#shortcuts").evaluate("d => d.open")

    # p, a reason, Enter: saved as a pass and the next result is shown.
    await page.keyboard.press("p")
    await page.keyboard.type("Reads fine to me")
    await page.keyboard.press("Enter")
    second = await wait_for_other(page, first)
    assert "1 of 8 reviewed" in await page.locator("#review-progress").inner_text()
    # Digits, then Enter in the score field.
    await page.keyboard.press("4")
    await page.keyboard.press("2")
    await page.keyboard.press("Enter")
    third = await wait_for_other(page, second)
    assert "2 of 8 reviewed" in await page.locator("#review-progress").inner_text()
    # f then Enter in the reason field.
    await page.keyboard.press("f")
    await page.keyboard.press("Enter")
    fourth = await wait_for_other(page, third)
    await page.screenshot(path=str(tmp_path / "review.png"), full_page=True)

    # The live agreement on the page is the API's.
    expected = await api_agreement(engine_client, tenant, run)
    assert set(expected) == {"case", "llm_judge"}
    for name, human in expected.items():
        stat = page.locator(f'.agreement[data-evaluator="{name}"]')
        assert int(await stat.get_attribute("data-n")) == human["n"] == 3
        for attribute, key in (
            ("data-kappa", "kappa"),
            ("data-agreement", "agreement_rate"),
            ("data-mae", "mean_absolute_error"),
        ):
            value = await stat.get_attribute(attribute)
            assert (None if value == "None" else float(value)) == human[key]

    results = await api_results(engine_client, tenant, run)
    assert [(o["score"], o["previous_score"], o["reason"], o["by"]) for o in results[first]["overrides"]] == [
        (100, 0, "Reads fine to me", tenant.key_id)
    ]
    assert results[first]["score"] == 100 and results[first]["status"] == "passed"
    assert [(o["score"], o["reason"]) for o in results[second]["overrides"]] == [(42, None)]
    assert results[third]["score"] == 0 and len(results[third]["overrides"]) == 1

    # u undoes the last save (the third) and shows that result again; history keeps both entries.
    await page.keyboard.press("u")
    assert await wait_for_other(page, fourth) == third
    assert "Undone" in await page.locator("#review-message").inner_text()
    results = await api_results(engine_client, tenant, run)
    before = results[third]["overrides"][0]["previous_score"]
    assert results[third]["score"] == before
    assert [(o["score"], o["previous_score"]) for o in results[third]["overrides"]] == [(0, before), (before, 0)]
    # u again undoes the one before (the second).
    await page.keyboard.press("u")
    assert await wait_for_other(page, third) == second
    results = await api_results(engine_client, tenant, run)
    assert results[second]["score"] == results[second]["overrides"][0]["previous_score"]

    # j moves on to the next result still to review (the first three have been reviewed, undone or not).
    await page.keyboard.press("j")
    assert await wait_for_other(page, second) == fourth
    # With reviewed results shown, the queue starts at the first again; j and k move through it.
    async with page.expect_navigation():
        await page.click("text=Show reviewed too")
    assert await shown(page) == first
    await page.keyboard.press("ArrowDown")
    assert await wait_for_other(page, first) == second
    await page.keyboard.press("k")
    assert await wait_for_other(page, second) == first
    assert "3 of 8 reviewed" in await page.locator("#review-progress").inner_text()
    problems.assert_none()


async def test_read_only_key_browses_without_controls(
    chromium: Any,
    live_url: str,
    running_app,  # noqa: ANN001, F811
    engine_client,  # noqa: ANN001, F811
    tenant,  # noqa: ANN001, F811
    fake,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    run = await make_review_run(engine_client, tenant, fake)
    reader = await add_key(running_app, tenant, ["evaluation:read"])
    page = await chromium.new_page()
    problems = PageProblems(page)
    results = await api_results(engine_client, tenant, run)
    hostile = next(i for i, r in results.items() if r["agent_response"] == HOSTILE_RESPONSE)
    await browser_sign_in(page, live_url, reader, next_url=f"/runs/{run.task_id}/review%3Fresult%3D{hostile}")
    assert await shown(page) == hostile
    assert await page.locator("#review-form").count() == 0
    assert await page.locator(".review-response").inner_text() == HOSTILE_RESPONSE
    assert await page.title() != "owned"
    await page.keyboard.press("p")
    await page.keyboard.press("Enter")
    await page.keyboard.press("j")
    assert await wait_for_other(page, hostile) != hostile
    assert all(not r["overrides"] for r in (await api_results(engine_client, tenant, run)).values())
    await page.screenshot(path=str(tmp_path / "review-read-only.png"), full_page=True)
    problems.assert_none()
