"""`assay demo` leaves data the UI shows at once: its suite, with both runs, on the suites page in Chromium."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from assay.api.app import create_app
from assay.domain.scopes import ALL_SCOPES
from assay.settings import Settings
from assay.storage import environments as env_store
from assay.storage.db import make_engine, make_sessionmaker
from tests.cli_run.conftest import run_cli
from tests.conftest import uvicorn_in_thread
from tests.web.conftest import PageProblems, browser_sign_in, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]


async def demo_key(database_url: str) -> str:
    """A new key of the demo environment (as scripts/demo creates one)."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            env = await env_store.find_environment(session=session, id_or_name="demo")
            _, new = await env_store.create_api_key(session=session, environment_id=env.id, scopes=list(ALL_SCOPES))
            await session.commit()
            return new.key
    finally:
        await engine.dispose()


async def test_the_demo_suite_is_on_the_suites_page(chromium: Any, tmp_path: Path) -> None:
    done = run_cli(tmp_path, "demo", timeout=90)
    assert done.returncode == 0, done.stderr
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'assay.db'}"
    key = await demo_key(database_url)
    settings = Settings(database_url=database_url, workers=0, _env_file=None)  # type: ignore[call-arg]
    with uvicorn_in_thread(create_app(settings)) as live_url:
        async with httpx.AsyncClient(base_url=live_url, headers={"X-Api-Key": key}) as api:
            (suite,) = (await api.get("/v1/evaluations")).json()
            runs = (await api.get(f"/v1/evaluations/{suite['id']}/runs")).json()
        assert suite["name"] == "order support (demo)" and len(runs) == 2
        latest = runs[0].get("task_id") or runs[0]["id"]
        assert uuid.UUID(latest) and all(r["status"] == "completed" for r in runs)

        page = await chromium.new_page()
        problems = PageProblems(page)
        await browser_sign_in(page, live_url, key)
        assert page.url == f"{live_url}/"
        row = page.locator("table.suites tbody tr")
        assert await row.count() == 1
        cells = [c.strip() for c in await row.locator("td").all_inner_texts()]
        assert cells[0].startswith("order support (demo)")
        assert cells[3] == "16" and "completed" in cells[4]
        assert re.fullmatch(r"87\.5 ?%|88 ?%", cells[5]), cells[5]  # 14 of 16 passed
        assert cells[6] == "96.2"
        assert await row.locator(f'a[href="/runs/{latest}"]').count() == 1
        assert await row.locator(f'a[href="/suites/{suite["id"]}"]').count() == 1
        assert await row.locator("svg").count() == 1  # the pass-rate sparkline over both runs
        await page.screenshot(path=str(tmp_path / "demo-suites.png"))
        problems.assert_none()
