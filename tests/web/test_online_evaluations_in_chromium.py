"""The online evaluations pages in Debian's Chromium: the list and the health page load cleanly, the toggle
turns an evaluation on, and "re-run failed" queues runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Env
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium
from tests.web.test_online_evaluations_page import (
    CONDITIONS,
    DONE,
    FAILED,
    OUTCOMES,
    create_evaluation,
    generation,
    store_runs,
)

pytestmark = [pytest.mark.browser, needs_chromium]

SCREENSHOTS = Path(os.environ.get("ASSAY_SCREENSHOT_DIR", "/tmp"))


async def test_list_toggle_and_health_in_the_browser(app: Any, chromium: Any, live_url: str, env_a: Env) -> None:
    async with httpx.AsyncClient(base_url=live_url) as api:
        evaluation = await create_evaluation(api, env_a, conditions=CONDITIONS, description="Checks the answer helps.")
        await create_evaluation(
            api,
            env_a,
            name="<b>non-empty</b>",
            evaluation_type="hog",
            evaluation_config={"source": "return true"},
            enabled=True,
            conditions=[{}],
        )
    outcomes = [*OUTCOMES, *[(DONE, i % 3 != 0, h + 0.5) for i, h in enumerate(range(6, 47))], (FAILED, None, 20)]
    await store_runs(app, env_a, evaluation["id"], outcomes)
    page = await chromium.new_page(viewport={"width": 1360, "height": 900})
    problems = PageProblems(page)
    await browser_sign_in(page, live_url, env_a.key, next_url="/evaluations")
    assert await page.locator("h1").inner_text() == "Online evaluations"
    assert await page.locator("table.evaluations tbody tr").count() == 2
    assert await page.get_by_role("link", name="<b>non-empty</b>").count() == 1
    row = page.locator(f'tr[data-evaluation-id="{evaluation["id"]}"]')
    await page.screenshot(path=str(SCREENSHOTS / "evaluations-list.png"), full_page=True)
    async with page.expect_navigation():
        await row.locator("button.toggle").click()
    assert await row.locator("button.toggle").inner_text() == "On"
    async with httpx.AsyncClient(base_url=live_url) as api:
        body = (await api.get(f"{env_a.api}/evaluations/{evaluation['id']}", headers=env_a.headers)).json()
    assert body["enabled"] is True

    await page.goto(f"{live_url}/evaluations/{evaluation['id']}/health")
    assert await page.locator("svg.stacked-bars rect").count() > 10
    assert await page.locator("table.failures tbody tr").count() > 5
    await page.screenshot(path=str(SCREENSHOTS / "evaluation-health.png"), full_page=True)
    await page.goto(f"{live_url}/evaluations/{evaluation['id']}/health?range=30d")
    await page.screenshot(path=str(SCREENSHOTS / "evaluation-health-30d.png"), full_page=True)
    problems.assert_none()


async def test_hog_syntax_error_appears_at_its_line_while_typing(
    app: Any, chromium: Any, live_url: str, env_a: Env
) -> None:
    async with httpx.AsyncClient(base_url=live_url) as api:
        evaluation = await create_evaluation(
            api, env_a, name="short", evaluation_type="hog", evaluation_config={"source": "return true"}
        )
        events = [generation(f"user-{i}") for i in range(2)]
        sent = await api.post("/batch/", json={"api_key": env_a.project_token, "batch": events})
        assert sent.status_code == 200, sent.text
    page = await chromium.new_page(viewport={"width": 1200, "height": 900})
    problems = PageProblems(page)
    await browser_sign_in(page, live_url, env_a.key, next_url=f"/evaluations/{evaluation['id']}")
    assert await page.locator("#hog-problems li").count() == 0
    await page.fill("#hog-source", "let n := length(output)\nlet ok := n < 500\nprint('n is', n)\nreturn (ok")
    await page.locator("#hog-problems li").first.wait_for()
    assert (await page.locator("#hog-problems li").inner_text()).startswith("Line 4, column 11")
    assert await page.locator("#hog-gutter span.error").inner_text() == "4"
    await page.screenshot(path=str(SCREENSHOTS / "evaluation-editor-error.png"), full_page=True)
    await page.press("#hog-source", "End")
    await page.keyboard.type(")")
    await page.locator("#hog-problems li").wait_for(state="detached")
    assert await page.locator("#hog-gutter span.error").count() == 0
    await page.click("#run-playground")
    await page.locator("#playground-results tbody tr").nth(1).wait_for()
    assert await page.locator("#playground-results tbody tr[data-result=pass]").count() == 2
    assert "2 events evaluated." in await page.locator("#playground-message").inner_text()
    await page.screenshot(path=str(SCREENSHOTS / "evaluation-playground.png"), full_page=True)
    async with page.expect_navigation():
        await page.click("button[type=submit].primary")
    assert "Saved." in await page.locator("main").inner_text()
    async with httpx.AsyncClient(base_url=live_url) as api:
        body = (await api.get(f"{env_a.api}/evaluations/{evaluation['id']}", headers=env_a.headers)).json()
    assert body["evaluation_config"]["source"].endswith("return (ok)")
    problems.assert_none()


async def test_conditions_builder_and_judge_playground(
    app: Any, chromium: Any, live_url: str, env_a: Env, fake: Any
) -> None:
    """Conditions built with the builder are saved in PostHog's shape; the judge playground shows the verdict the
    fake judge gives through the evaluation's provider key."""
    fake.set_scenario({"rules": [{"json": {"verdict": True, "reasoning": "Polite and correct."}}]})
    async with httpx.AsyncClient(base_url=live_url) as api:
        key = await api.post(
            f"{env_a.api}/llm_provider_keys",
            json={"provider": "openai", "name": "local", "base_url": fake.base_url},
            headers=env_a.headers,
        )
        assert key.status_code == 201, key.text
        evaluation = await create_evaluation(
            api,
            env_a,
            conditions=CONDITIONS,
            model_configuration={"provider": "openai", "model": "builder-judge", "provider_key_id": key.json()["id"]},
        )
        sent = await api.post("/batch/", json={"api_key": env_a.project_token, "batch": [generation("user-1")]})
        assert sent.status_code == 200, sent.text
    page = await chromium.new_page(viewport={"width": 1200, "height": 1000})
    problems = PageProblems(page)
    await browser_sign_in(page, live_url, env_a.key, next_url=f"/evaluations/{evaluation['id']}")
    builder = page.locator("#conditions-builder")
    assert await builder.locator(".condition-set").count() == 1
    first = builder.locator(".condition-filter").first
    assert await first.get_by_label("Property", exact=True).input_value() == "$ai_model"
    assert await first.get_by_label("Value").input_value() == "gpt-4o"
    await first.get_by_label("Operator").select_option("icontains")
    await first.get_by_label("Value").fill("gpt")
    await first.get_by_label("Value").dispatch_event("change")
    await builder.get_by_role("button", name="+ Filter").click()
    second = builder.locator(".condition-filter").nth(1)
    await second.get_by_label("Property", exact=True).fill("$ai_provider")
    await second.get_by_label("Property", exact=True).dispatch_event("change")
    await second.get_by_label("Operator").select_option("is_set")
    await builder.get_by_label("Rollout percentage").fill("40")
    await builder.get_by_label("Rollout percentage").dispatch_event("change")
    await builder.get_by_role("button", name="+ Condition set (or)").click()
    assert await builder.locator(".condition-set").count() == 2

    await page.click("#run-judge")
    await page.locator("#judge-result").wait_for()
    assert await page.locator("#judge-verdict").inner_text() == "pass"
    assert await page.locator("#judge-reasoning").inner_text() == "Polite and correct."
    assert "builder-judge" in await page.locator("#judge-usage").inner_text()
    await page.screenshot(path=str(SCREENSHOTS / "evaluation-judge-playground.png"), full_page=True)
    async with page.expect_navigation():
        await page.click("button[type=submit].primary")
    assert "Saved." in await page.locator("main").inner_text()
    async with httpx.AsyncClient(base_url=live_url) as api:
        body = (await api.get(f"{env_a.api}/evaluations/{evaluation['id']}", headers=env_a.headers)).json()
    first_set, second_set = body["conditions"]
    assert first_set["id"] == "c1" and first_set["rollout_percentage"] == 40
    assert first_set["properties"] == [
        {"key": "$ai_model", "value": "gpt", "operator": "icontains", "type": "event"},
        {"key": "$ai_provider", "operator": "is_set", "type": "event"},
    ]
    assert second_set["properties"] == [] and second_set["rollout_percentage"] == 100
    problems.assert_none()
