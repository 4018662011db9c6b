"""The review queue through HTTP: order, progress, saving by form and by fetch, undo with history, scopes,
CSRF, other environments, escaping, and agreement numbers equal to the API's (SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
from markupsafe import escape

from tests.conftest import Env, add_key, make_env
from tests.engine.conftest import engine_client, engine_settings, running_app, tenant  # noqa: F401
from tests.web.conftest import sign_in
from tests.web.review_data import (
    HOSTILE_REASON,
    HOSTILE_RESPONSE,
    api_agreement,
    api_results,
    make_review_run,
)

_RESULT = re.compile(r'data-result-id="([^"]*)"')
_NEXT = re.compile(r'data-next-url="([^"]*)"')


def shown_result(page: str) -> str:
    found = _RESULT.search(page)
    assert found, "no review panel"
    return found.group(1)


def next_url(page: str) -> str:
    found = _NEXT.search(page)
    assert found
    return html.unescape(found.group(1))


async def walk_queue(client: httpx.AsyncClient, url: str) -> list[str]:
    """Result ids in queue order, following the next links from `url`."""
    seen: list[str] = []
    while url:
        page = await client.get(url)
        assert page.status_code == 200, page.text
        seen.append(shown_result(page.text))
        url = next_url(page.text)
    return seen


async def test_queue_order_failed_then_disagreeing_then_the_rest(engine_client, tenant, fake) -> None:  # noqa: ANN001, F811
    run = await make_review_run(engine_client, tenant, fake)
    await sign_in(engine_client, tenant.key, next_url=f"/runs/{run.task_id}/review")
    results = await api_results(engine_client, tenant, run)
    order = await walk_queue(engine_client, f"/runs/{run.task_id}/review")
    assert sorted(order) == sorted(results)
    labels = [(run.label(results[i]["test_case_id"]), results[i]["status"]) for i in order]
    # c0 failed twice and c1's failed repetition first, then c1's passed repetition, then c2, c3.
    assert labels == [
        ("c0", "failed"),
        ("c0", "failed"),
        ("c1", "failed"),
        ("c1", "passed"),
        ("c2", "passed"),
        ("c2", "passed"),
        ("c3", "passed"),
        ("c3", "passed"),
    ]
    page = (await engine_client.get(f"/runs/{run.task_id}/review")).text
    assert "0 of 8 reviewed" in page and "1 of 8 to review" in page


async def test_form_save_advances_and_undo_restores_with_history(engine_client, tenant, fake) -> None:  # noqa: ANN001, F811
    run = await make_review_run(engine_client, tenant, fake)
    token = await sign_in(engine_client, tenant.key, next_url=f"/runs/{run.task_id}/review")
    first_page = (await engine_client.get(f"/runs/{run.task_id}/review")).text
    first = shown_result(first_page)
    judged_reason = (await api_results(engine_client, tenant, run))[first]["score_reason"]
    saved = await engine_client.post(
        f"/runs/{run.task_id}/review/{first}", data={"csrf_token": token, "score": "85", "reason": "Fine by me"}
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == next_url(first_page)

    result = (await api_results(engine_client, tenant, run))[first]
    assert result["score"] == 85 and result["status"] == "passed" and result["original_score"] == 0
    assert [(o["score"], o["previous_score"], o["reason"], o["by"]) for o in result["overrides"]] == [
        (85, 0, "Fine by me", tenant.key_id)
    ]
    # Skip reviewed (the default): the queue now starts at the second result.
    page = (await engine_client.get(f"/runs/{run.task_id}/review")).text
    assert shown_result(page) != first and "1 of 8 reviewed" in page
    # With reviewed results shown, it starts at the first again.
    assert shown_result((await engine_client.get(f"/runs/{run.task_id}/review", params={"all": "1"})).text) == first

    undone = await engine_client.post(f"/runs/{run.task_id}/review/{first}/undo", data={"csrf_token": token})
    assert undone.status_code == 303 and undone.headers["location"] == f"/runs/{run.task_id}/review?result={first}"
    result = (await api_results(engine_client, tenant, run))[first]
    assert result["score"] == 0 and result["status"] == "failed" and result["score_reason"] == judged_reason
    history = [(o["score"], o["previous_score"], o["by"]) for o in result["overrides"]]
    assert history == [(85, 0, tenant.key_id), (0, 85, tenant.key_id)]
    assert result["overrides"][1]["reason"].startswith("Undo of the override of")
    # Nothing standing is left to undo.
    again = await engine_client.post(f"/runs/{run.task_id}/review/{first}/undo", data={"csrf_token": token})
    assert again.status_code == 409


async def test_fetch_saves_answer_json_with_the_next_panel(engine_client, tenant, fake) -> None:  # noqa: ANN001, F811
    run = await make_review_run(engine_client, tenant, fake)
    token = await sign_in(engine_client, tenant.key, next_url=f"/runs/{run.task_id}/review")
    page = (await engine_client.get(f"/runs/{run.task_id}/review")).text
    first, following = shown_result(page), next_url(page)
    headers = {"X-CSRF-Token": token, "Accept": "application/json"}
    answer = await engine_client.post(
        f"/runs/{run.task_id}/review/{first}", data={"score": "100", "reason": ""}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["saved"] == {
        "result_id": first,
        "score": 100.0,
        "previous_score": 0.0,
        "reason": None,
        "by": tenant.key_id,
    }
    assert body["url"] == following and shown_result(body["html"]) in following
    assert "1 of 8 reviewed" in body["html"]
    undo = await engine_client.post(f"/runs/{run.task_id}/review/{first}/undo", headers=headers)
    assert undo.status_code == 200 and shown_result(undo.json()["html"]) == first
    assert undo.json()["saved"]["score"] == 0

    panel = await engine_client.get(f"/runs/{run.task_id}/review/panel", params={"result": first})
    assert panel.status_code == 200 and shown_result(panel.json()["html"]) == first


async def test_bad_scores_are_refused(engine_client, tenant, fake) -> None:  # noqa: ANN001, F811
    run = await make_review_run(engine_client, tenant, fake)
    token = await sign_in(engine_client, tenant.key, next_url=f"/runs/{run.task_id}/review")
    first = shown_result((await engine_client.get(f"/runs/{run.task_id}/review")).text)
    for score in ("101", "-1", "nan", "inf", "abc", ""):
        answer = await engine_client.post(
            f"/runs/{run.task_id}/review/{first}", data={"csrf_token": token, "score": score}
        )
        assert answer.status_code == 422, (score, answer.status_code)
    for reason in ("nul \x00 inside", "x" * 10_001):
        answer = await engine_client.post(
            f"/runs/{run.task_id}/review/{first}", data={"csrf_token": token, "score": "50", "reason": reason}
        )
        assert answer.status_code == 422, answer.text
    assert (await api_results(engine_client, tenant, run))[first]["overrides"] == []


async def test_read_only_key_sees_no_controls_and_cannot_override(engine_client, running_app, tenant, fake) -> None:  # noqa: ANN001, F811
    run = await make_review_run(engine_client, tenant, fake)
    reader = await add_key(running_app, tenant, ["evaluation:read"])
    token = await sign_in(engine_client, reader, next_url=f"/runs/{run.task_id}/review")
    page = (await engine_client.get(f"/runs/{run.task_id}/review")).text
    first = shown_result(page)
    assert 'id="review-form"' not in page and 'name="score"' not in page
    assert "can read but not change" in page
    for url in (f"/runs/{run.task_id}/review/{first}", f"/runs/{run.task_id}/review/{first}/undo"):
        answer = await engine_client.post(url, data={"csrf_token": token, "score": "100"})
        assert answer.status_code == 403, answer.text
    assert (await api_results(engine_client, tenant, run))[first]["overrides"] == []


async def test_a_post_without_the_csrf_token_is_refused(engine_client, tenant, fake) -> None:  # noqa: ANN001, F811
    run = await make_review_run(engine_client, tenant, fake)
    await sign_in(engine_client, tenant.key, next_url=f"/runs/{run.task_id}/review")
    first = shown_result((await engine_client.get(f"/runs/{run.task_id}/review")).text)
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        answer = await engine_client.post(f"/runs/{run.task_id}/review/{first}", data={"score": "100"}, headers=headers)
        assert answer.status_code == 403 and "CSRF" in answer.text
    assert (await api_results(engine_client, tenant, run))[first]["overrides"] == []


async def test_another_environments_run_is_404(engine_client, running_app, tenant, fake) -> None:  # noqa: ANN001, F811
    run = await make_review_run(engine_client, tenant, fake)
    first = next(iter(await api_results(engine_client, tenant, run)))
    other: Env = await make_env(running_app, "other-env")
    token = await sign_in(engine_client, other.key)  # an environment without suites
    for url in (f"/runs/{run.task_id}/review", f"/runs/{run.task_id}/review/panel"):
        assert (await engine_client.get(url)).status_code == 404
    answer = await engine_client.post(f"/runs/{run.task_id}/review/{first}", data={"csrf_token": token, "score": "1"})
    assert answer.status_code == 404
    # The API answers the same.
    api = await engine_client.get(f"/v1/tasks/{run.task_id}", headers=other.headers)
    assert api.status_code == 404
    # A result id that is not one of this run's is not in its queue either.
    engine_client.cookies.clear()
    await sign_in(engine_client, tenant.key, next_url=f"/runs/{run.task_id}/review")
    missing = await engine_client.get(f"/runs/{run.task_id}/review", params={"result": run.task_id})
    assert missing.status_code == 404


async def test_responses_and_reasons_render_as_text(engine_client, tenant, fake) -> None:  # noqa: ANN001, F811
    run = await make_review_run(engine_client, tenant, fake)
    await sign_in(engine_client, tenant.key, next_url=f"/runs/{run.task_id}/review")
    results = await api_results(engine_client, tenant, run)
    hostile = next(i for i, r in results.items() if r["agent_response"] == HOSTILE_RESPONSE)
    page = (await engine_client.get(f"/runs/{run.task_id}/review", params={"result": hostile})).text
    assert HOSTILE_RESPONSE not in page and str(escape(HOSTILE_RESPONSE)) in page
    judged = next(i for i, r in results.items() if run.label(r["test_case_id"]) == "c0")
    page = (await engine_client.get(f"/runs/{run.task_id}/review", params={"result": judged})).text
    assert HOSTILE_REASON not in page and str(escape(HOSTILE_REASON)) in page


def page_agreement(page: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for match in re.finditer(
        r'data-evaluator="([^"]+)" data-n="(\d+)" data-kappa="([^"]*)"\s+data-agreement="([^"]*)" data-mae="([^"]*)"',
        page,
    ):
        name, n, kappa, rate, mae = match.groups()
        number = lambda v: None if v == "None" else float(v)  # noqa: E731
        found[name] = {
            "n": int(n),
            "kappa": number(kappa),
            "agreement_rate": number(rate),
            "mean_absolute_error": number(mae),
        }
    return found


async def test_agreement_follows_the_reviews_and_equals_the_api(engine_client, tenant, fake) -> None:  # noqa: ANN001, F811
    run = await make_review_run(engine_client, tenant, fake)
    token = await sign_in(engine_client, tenant.key, next_url=f"/runs/{run.task_id}/review")
    assert page_agreement((await engine_client.get(f"/runs/{run.task_id}/review")).text) == {}
    results = await api_results(engine_client, tenant, run)
    order = await walk_queue(engine_client, f"/runs/{run.task_id}/review?all=1")
    for result_id, score in zip(order, (90, 10, 0, 100, 40), strict=False):
        answer = await engine_client.post(
            f"/runs/{run.task_id}/review/{result_id}",
            data={"score": str(score)},
            headers={"X-CSRF-Token": token, "Accept": "application/json"},
        )
        assert answer.status_code == 200
        shown = page_agreement(answer.json()["html"])
        expected = await api_agreement(engine_client, tenant, run)
        assert set(shown) == set(expected) and shown
        for name, figures in shown.items():
            assert figures == {k: expected[name][k] for k in figures}
    assert shown["case"]["n"] == 5 and len(results) == 8
