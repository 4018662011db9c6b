"""Online evaluation failures are visible: logged once per cause, counted, listed, retried with backoff."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest

from assay.api.app import create_app
from assay.engine.online.scheduler import retry_delay
from tests.conftest import make_env
from tests.online.conftest import (
    create_evaluation,
    evaluation_events,
    generation_event,
    online_settings,
    send,
    settle,
    wait_for,
)

FAST_RETRIES = {"online_retry_seconds": 0.4, "online_retry_max_seconds": 0.8, "online_max_attempts": 3}
ONLINE_LOGGER = "assay.engine.online"


@asynccontextmanager
async def serving(database_url: str, fake: Any, **overrides: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient, Any]]:
    app = create_app(online_settings(database_url, fake, **{**FAST_RETRIES, **overrides}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client, await make_env(app, f"failures-{uuid.uuid4().hex[:6]}")


def failure_lines(caplog: pytest.LogCaptureFixture, evaluation_id: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == ONLINE_LOGGER and r.levelno == logging.WARNING and evaluation_id in r.getMessage()
    ]


async def judge(http: httpx.AsyncClient, env: Any, prompt: str, **fields: Any) -> dict[str, Any]:
    prompt = f"{prompt} ({uuid.uuid4()})"  # judge answers are cached by content across tests
    return await create_evaluation(
        http, env, name="judge", evaluation_type="llm_judge", evaluation_config={"prompt": prompt}, **fields
    )


async def list_runs(http: httpx.AsyncClient, env: Any, **params: Any) -> dict[str, Any]:
    r = await http.get(f"{env.api}/evaluation_runs", params=params, headers=env.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def stats(http: httpx.AsyncClient, env: Any, evaluation_id: str) -> dict[str, Any]:
    r = await http.get(f"{env.api}/evaluations/{evaluation_id}/stats", headers=env.headers)
    assert r.status_code == 200, r.text
    return r.json()


FAILING = {"rules": [{"status": 500, "error_message": "upstream exploded"}]}


async def test_failing_judge_is_retried_a_bounded_number_of_times(database_url, fake, caplog) -> None:
    fake.set_scenario(FAILING)
    caplog.set_level(logging.WARNING, logger=ONLINE_LOGGER)
    async with serving(database_url, fake) as (app, http, env):
        evaluation = await judge(http, env, "Bounded retries?")
        events = [generation_event(f"user-{i}") for i in range(3)]
        await send(http, env, events)
        rows = await settle(app, expected_runs=3, timeout=60)
        assert [r.status for r in rows] == ["failed"] * 3
        assert all(r.attempts == 3 for r in rows)
        assert all(
            r.error.startswith("server_error: ") and r.error.endswith("(gave up after 3 attempts)") for r in rows
        )
        assert await evaluation_events(http, env) == []

        page = await list_runs(http, env, status="failed", evaluation_id=evaluation["id"])
        assert {r["target_event_id"] for r in page["results"]} == {e["uuid"] for e in events}
        assert all(r["attempts"] == 3 and r["last_error"] == r["error"] for r in page["results"])
        counts = await stats(http, env, evaluation["id"])
        assert counts["total_count"] == 3 and counts["error_count"] == 3 and counts["retried_count"] == 3
        assert counts["runs_count"] == counts["pass_count"] == counts["pending_count"] == 0
        assert counts["pass_rate"] is None

    lines = failure_lines(caplog, evaluation["id"])
    assert len([line for line in lines if "): server_error:" in line]) == 1, lines  # 9 failed attempts, one line
    # the summary at shutdown counts the rest instead of repeating them
    assert any("8 more server_error failures" in line for line in lines), lines
    [first] = [line for line in lines if "): server_error:" in line]
    assert "upstream exploded" in first or "server_error" in first
    assert "attempt 1 of 3, retrying in" in first


async def test_retries_with_backoff_then_succeed_when_the_server_recovers(database_url, fake) -> None:
    fake.set_scenario(FAILING)
    async with serving(database_url, fake, online_retry_seconds=1.0, online_retry_max_seconds=2.0) as (app, http, env):
        evaluation = await judge(http, env, "Recovers after a failure?")
        target = generation_event("user-r")
        await send(http, env, [target])
        seen: list[dict[str, Any]] = []

        async def retrying() -> dict[str, Any] | None:
            [run] = (await list_runs(http, env, evaluation_id=evaluation["id"]))["results"] or [None]
            if run is not None:
                seen.append(run)
            return run if run is not None and run["status"] == "retrying" else None

        waiting = await wait_for(retrying, timeout=30)
        assert waiting["attempts"] == 1 and waiting["error"] is None and waiting["finished_at"] is None
        assert waiting["last_error"].startswith("server_error: ")
        due = datetime.fromisoformat(waiting["next_attempt_at"])
        started = datetime.fromisoformat(waiting["started_at"])
        assert (due - started).total_seconds() >= retry_delay(1, initial=1.0, maximum=2.0) == 1.0
        failed = await list_runs(http, env, status="retrying,failed", evaluation_id=evaluation["id"])
        assert [r["workflow_id"] for r in failed["results"]] == [waiting["workflow_id"]]

        fake.set_scenario({"rules": [{"json": {"verdict": True, "reasoning": "Fine."}}]})
        [run] = await settle(app, expected_runs=1, timeout=30)
        assert run.status == "completed" and run.attempts == 2 and run.verdict is True
        assert run.started_at >= due  # the second attempt waited for its backoff
        assert run.last_error.startswith("server_error: ") and run.error is None
        [event] = await evaluation_events(http, env)
        assert event["properties"]["$ai_target_event_id"] == target["uuid"]
        assert event["properties"]["$ai_evaluation_result"] is True
        counts = await stats(http, env, evaluation["id"])
        assert (counts["runs_count"], counts["pass_count"], counts["error_count"], counts["retried_count"]) == (
            1,
            1,
            0,
            1,
        )
        assert counts["pass_rate"] == 100.0
        # nothing more happens to a completed run: still one event
        app.state.online.notify()
        await settle(app, expected_runs=1)
        assert len(await evaluation_events(http, env)) == 1


async def test_hog_errors_and_skips_are_not_retried_and_logged_once_per_cause(database_url, fake, caplog) -> None:
    caplog.set_level(logging.WARNING, logger=ONLINE_LOGGER)
    async with serving(database_url, fake, judge_model=None) as (app, http, env):
        hog = await create_evaluation(http, env, name="broken-hog", evaluation_config={"source": "return 1"})
        no_judge = await judge(http, env, "Nobody to ask?")
        await send(http, env, [generation_event(f"user-{i}") for i in range(4)])
        rows = await settle(app, expected_runs=8)
        by_eval = {str(r.evaluator_id): [] for r in rows}
        for r in rows:
            by_eval[str(r.evaluator_id)].append(r)
        assert {(r.status, r.attempts) for r in by_eval[hog["id"]]} == {("failed", 1)}
        assert {(r.status, r.attempts) for r in by_eval[no_judge["id"]]} == {("skipped", 1)}
        assert {r.result["skip_reason"] for r in by_eval[no_judge["id"]]} == {"no_judge"}
        skipped = await list_runs(http, env, status="skipped")
        assert {r["evaluation_id"] for r in skipped["results"]} == {no_judge["id"]}
        assert len(skipped["results"]) == 4
        assert (await stats(http, env, no_judge["id"]))["skipped_count"] == 4
        assert (await stats(http, env, hog["id"]))["error_count"] == 4

    hog_lines = failure_lines(caplog, hog["id"])
    assert len([line for line in hog_lines if "): hog_error: Hog evaluation error: Must return boolean" in line]) == 1
    judge_lines = failure_lines(caplog, no_judge["id"])
    assert len([line for line in judge_lines if "): no_judge: No judge model is configured" in line]) == 1
    assert "skipped, no $ai_evaluation event" in judge_lines[0]


async def test_stats_count_pass_fail_na_and_errors(database_url, fake) -> None:
    source = (
        "if (properties.kind == 'na') { return null }\n"
        "if (properties.kind == 'err') { return 1 }\n"
        "return properties.kind == 'pass'"
    )
    async with serving(database_url, fake) as (app, http, env):
        evaluation = await create_evaluation(
            http, env, evaluation_config={"source": source}, output_config={"allows_na": True}
        )
        other = await create_evaluation(http, env, name="other")
        kinds = ["pass", "pass", "pass", "fail", "na", "err"]
        await send(http, env, [generation_event(f"u-{i}", kind=k) for i, k in enumerate(kinds)])
        await settle(app, expected_runs=12)
        counts = await stats(http, env, evaluation["id"])
        assert counts["evaluation_id"] == evaluation["id"] and counts["hours"] == 24
        expected = {"total_count": 6, "runs_count": 5, "applicable_count": 4, "pass_count": 3, "fail_count": 1}
        expected |= {"na_count": 1, "error_count": 1, "skipped_count": 0, "pending_count": 0}
        assert {k: counts[k] for k in expected} == expected
        assert counts["pass_rate"] == 75.0 and counts["applicability_rate"] == 80.0
        assert (await stats(http, env, other["id"]))["pass_count"] == 6

        url = f"{env.api}/evaluations/{evaluation['id']}/stats"
        for params in ({"hours": 0}, {"hours": "x"}, {"hours": 10**6}):
            r = await http.get(url, params=params, headers=env.headers)
            assert r.status_code == 400, (params, r.text)
        for missing in (str(uuid.uuid4()), "not-a-uuid"):
            r = await http.get(f"{env.api}/evaluations/{missing}/stats", headers=env.headers)
            assert r.status_code == 404
        elsewhere = await make_env(app, "elsewhere")
        r = await http.get(f"{elsewhere.api}/evaluations/{evaluation['id']}/stats", headers=elsewhere.headers)
        assert r.status_code == 404


async def test_run_listing_filters_and_keyset_pages(database_url, fake) -> None:
    async with serving(database_url, fake) as (app, http, env):
        good = await create_evaluation(http, env, name="good")
        bad = await create_evaluation(http, env, name="bad", evaluation_config={"source": "return 1"})
        await send(http, env, [generation_event(f"u-{i}") for i in range(5)])
        await settle(app, expected_runs=10)

        everything = await list_runs(http, env)
        assert len(everything["results"]) == 10 and everything["next"] is None
        fields = {"workflow_id", "status", "source", "evaluation_id", "attempts", "next_attempt_at", "last_error"}
        assert set(everything["results"][0]) >= fields
        keys = [(r["created_at"], r["workflow_id"]) for r in everything["results"]]
        assert keys == sorted(keys, reverse=True)  # newest first

        failed = await list_runs(http, env, status="failed", evaluation_id=bad["id"])
        assert len(failed["results"]) == 5
        assert {(r["status"], r["evaluation_id"], r["source"]) for r in failed["results"]} == {
            ("failed", bad["id"], "online")
        }
        assert (await list_runs(http, env, status="failed", evaluation_id=good["id"]))["results"] == []
        assert (await list_runs(http, env, source="manual"))["results"] == []

        collected: list[str] = []
        url: str | None = f"http://testserver{env.api}/evaluation_runs?limit=3&status=completed,failed"
        pages = 0
        while url is not None:
            r = await http.get(url, headers=env.headers)
            assert r.status_code == 200, r.text
            body = r.json()
            assert set(body) == {"next", "results"} and len(body["results"]) <= 3
            collected += [row["workflow_id"] for row in body["results"]]
            url = body["next"]
            assert url is None or "status=completed%2Cfailed" in url or "status=completed,failed" in url
            pages += 1
        assert pages == 4 and collected == [r["workflow_id"] for r in everything["results"]]
        slashed = await http.get(f"{env.api}/evaluation_runs/?limit=3", headers=env.headers)
        assert slashed.status_code == 200 and "/evaluation_runs/?" in slashed.json()["next"]  # the client's form

        base = f"{env.api}/evaluation_runs"
        for params, attr in (
            ({"status": "broken"}, "status"),
            ({"evaluation_id": "nope"}, "evaluation_id"),
            ({"cursor": "garbage!"}, "cursor"),
            ({"cursor": "WzFd"}, "cursor"),  # a valid encoding of [1]
            ({"limit": 0}, "limit"),
            ({"source": "other"}, "source"),
        ):
            r = await http.get(base, params=params, headers=env.headers)
            assert r.status_code == 400, (params, r.text)
            assert r.json()["attr"] == attr, r.json()
        elsewhere = await make_env(app, "elsewhere")
        assert (await list_runs(http, elsewhere))["results"] == []


def test_retry_delay_doubles_up_to_the_cap() -> None:
    assert [retry_delay(a, initial=10, maximum=60) for a in range(1, 6)] == [10, 20, 40, 60, 60]
