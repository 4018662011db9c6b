"""The result page of a conversation case: the transcript turn by turn (latency, tokens, tool calls, results),
the earlier messages, the simulated user; text stays text; in Chromium with no console errors."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from assay.domain.transcripts import Transcript, TurnRecord
from assay.storage.run_tables import ResultRow
from tests.conftest import Env
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium, sign_in
from tests.web.run_data import HOSTILE, seed_run

SCREENSHOTS = Path("/tmp/assay-conversation")
# The page reads a stored transcript like any other column: both databases store it in tests/engine.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def transcript() -> dict[str, Any]:
    turns = [
        TurnRecord(0, "input", "Where is my order?", "Which order number?", latency_ms=120.4, tokens=31, steps=1),
        TurnRecord(
            1,
            "simulated",
            HOSTILE,
            "Order A1 is shipped.",
            tool_calls=[
                {
                    "id": "call_1",
                    "name": "lookup_order",
                    "arguments": {"order_id": "A1"},
                    "mocked": True,
                    "result": {"status": "shipped"},
                }
            ],
            latency_ms=2310.0,
            tokens=77,
            steps=2,
        ),
    ]
    convo = Transcript(
        turns=turns,
        messages=[{"role": "system", "content": "Be brief."}],
        prior_messages=1,
        stop_reason="goal_met",
        goal_met_at=2,
        simulator={
            "goal": "learn where order A1 is",
            "persona": "a hurried customer",
            "model": "openai/judge-model",
            "seed": 0,
            "answers": [
                {"turn": 1, "goal_met": False, "message": HOSTILE},
                {"turn": 2, "goal_met": True, "message": ""},
            ],
            "tokens": 50,
        },
    )
    return convo.to_json()


async def seeded_conversation(app: Any, env: Env) -> tuple[uuid.UUID, uuid.UUID]:
    run = await seed_run(app.state.sessionmaker, uuid.UUID(env.id), 2)
    async with app.state.sessionmaker() as session:
        result_id = await session.scalar(select(ResultRow.id).where(ResultRow.test_case_id == run.case_ids[0]))
        await session.execute(update(ResultRow).where(ResultRow.id == result_id).values(transcript=transcript()))
        await session.commit()
    return run.run_id, result_id


async def test_result_page_shows_the_conversation(client, app, env_a: Env) -> None:  # noqa: ANN001
    run_id, result_id = await seeded_conversation(app, env_a)
    await sign_in(client, env_a.key, next_url=f"/runs/{run_id}")
    page = await client.get(f"/runs/{run_id}/results/{result_id}")
    assert page.status_code == 200
    text = page.text
    assert 'id="conversation"' in text and "/static/conversation.css" in text
    assert text.count('class="turn"') == 2 and "Which order number?" in text and "Order A1 is shipped." in text
    assert "120 ms · 31 tokens · 1 model call(s)" in text and "2.31 s · 77 tokens · 2 model call(s)" in text
    assert "lookup_order" in text and '{"status": "shipped"}' in text
    assert "the simulated user judged its goal met" in text and "met after 2 turn(s), 3 model call(s)" in text
    assert "1 earlier message(s)" in text and "Be brief." in text
    assert "learn where order A1 is" in text and "a hurried customer" in text
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text
    other = await client.get(f"/runs/{run_id}")
    assert other.status_code == 200
    results = (await client.get(f"/v1/evaluations/{(await _suite(app, run_id))}/results", headers=env_a.headers)).json()
    plain = next(r for r in results if r["id"] != str(result_id))
    page = await client.get(f"/runs/{run_id}/results/{plain['id']}")
    assert 'id="conversation"' not in page.text and plain["transcript"] is None


async def _suite(app: Any, run_id: uuid.UUID) -> str:
    async with app.state.sessionmaker() as session:
        suite_id = await session.scalar(select(ResultRow.suite_id).where(ResultRow.run_id == run_id))
    return str(suite_id)


@pytest.mark.browser
@needs_chromium
async def test_conversation_in_chromium(chromium: Any, live_url: str, app: Any, env_a: Env) -> None:
    run_id, result_id = await seeded_conversation(app, env_a)
    page = await chromium.new_page(viewport={"width": 1300, "height": 1000})
    problems = PageProblems(page)
    await browser_sign_in(page, live_url, env_a.key, next_url=f"/runs/{run_id}/results/{result_id}")
    await page.wait_for_load_state("load")
    assert await page.locator("#conversation li.turn").count() == 2
    assert HOSTILE in await page.locator("#turn-2 .msg-user").inner_text()
    assert await page.locator("#conversation b").count() == 0
    await page.locator("details.simulator summary").click()
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "result.png"), full_page=True)
    problems.assert_none()
