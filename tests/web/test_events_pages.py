"""The events, event and trace pages over HTTP: filters, keyset pages, the live tail, transcripts, verdicts,
add to dataset, tenancy and escaping. Events arrive through the capture endpoint with the project token."""

from __future__ import annotations

import html
import json
import re
import uuid
from typing import Any

import httpx

from assay.storage import event_pages
from assay.web.pages.events import TAIL_BATCH
from tests.conftest import Env, add_key
from tests.web.conftest import form_token, sign_in

HOSTILE = "<script>alert('x')</script><b>bold</b>"


def generation(**props: Any) -> dict[str, Any]:
    return {
        "$ai_trace_id": "trace-1",
        "$ai_model": "gpt-4o-mini",
        "$ai_provider": "openai",
        "$ai_input": [{"role": "user", "content": "What is 2+2?"}],
        "$ai_output_choices": [{"role": "assistant", "content": "4"}],
        "$ai_input_tokens": 7,
        "$ai_output_tokens": 1,
        "$ai_latency": 0.5,
        **props,
    }


def event(name: str = "$ai_generation", distinct_id: str = "user-1", **props: Any) -> dict[str, Any]:
    return {
        "event": name,
        "distinct_id": distinct_id,
        "uuid": str(uuid.uuid4()),
        "properties": generation(**props) if name == "$ai_generation" else props,
    }


async def capture(client: httpx.AsyncClient, env: Env, events: list[dict[str, Any]]) -> list[str]:
    answer = await client.post("/batch/", json={"api_key": env.project_token, "batch": events})
    assert answer.status_code == 200, answer.text
    return [e["uuid"] for e in events]


def shown_uuids(html: str) -> list[str]:
    return re.findall(r'href="/events/([0-9a-f-]{36})"', html)


async def test_filters_and_keyset_pages(client: httpx.AsyncClient, env_a: Env) -> None:
    batch = [event(distinct_id=f"user-{i % 3}", **{"$ai_model": "m-a" if i % 2 else "m-b", "k": i}) for i in range(60)]
    batch.append(event(**{"$ai_provider": "anthropic", "$ai_trace_id": "t-other"}))
    batch.append(event("$ai_span", **{"$ai_trace_id": "trace-1", "$ai_span_name": "lookup"}))
    uuids = await capture(client, env_a, batch)
    await sign_in(client, env_a.key)

    first = await client.get("/events")
    assert first.status_code == 200
    page_one = shown_uuids(first.text)
    assert page_one == list(reversed(uuids[:61]))[:50]  # generations only, newest first
    older = re.search(r'href="(/events\?cursor=\d+)" rel="next"', first.text)
    assert older
    second = await client.get(older.group(1).replace("&amp;", "&"))
    assert shown_uuids(second.text) == list(reversed(uuids[:61]))[50:]
    assert 'rel="next"' not in second.text

    async def matching(**params: str) -> set[str]:
        answer = await client.get("/events", params=params)
        assert answer.status_code == 200, answer.text
        return set(shown_uuids(answer.text))

    assert await matching(model="m-a", distinct_id="user-1") == {
        u for i, u in enumerate(uuids[:60]) if i % 2 and i % 3 == 1
    }
    assert await matching(provider="anthropic") == {uuids[60]}
    assert await matching(trace_id="t-other") == {uuids[60]}
    assert await matching(property="k=7") == {uuids[7]}
    assert await matching(event="$ai_span") == {uuids[61]}
    assert uuids[61] in await matching(event="any")
    assert await matching(after="2000-01-01T00:00", before="2001-01-01T00:00") == set()
    for bad in ({"after": "yesterday"}, {"property": "no-equals"}, {"cursor": "x"}):
        answer = await client.get("/events", params=bad)
        assert answer.status_code == 422, (bad, answer.status_code)


async def test_scopes_and_sign_in(app: Any, client: httpx.AsyncClient, env_a: Env) -> None:
    assert (await client.get("/events")).status_code in (303, 307)
    answer = await client.get("/login")
    key = await add_key(app, env_a, ["dataset:read"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', answer.text)
    assert token
    login = {"api_key": key, "csrf_token": token.group(1), "next": "/events"}
    assert (await client.post("/login", data=login)).status_code == 303
    assert (await client.get("/events")).status_code == 403
    client.cookies.clear()
    await sign_in(client, await add_key(app, env_a, ["event:read"]), next_url="/events")
    assert (await client.get("/events")).status_code == 200


async def test_hostile_content_is_text(client: httpx.AsyncClient, env_a: Env) -> None:
    await capture(client, env_a, [event(distinct_id=HOSTILE, **{"$ai_model": HOSTILE})])
    await sign_in(client, env_a.key)
    page = await client.get("/events")
    assert HOSTILE not in page.text
    assert "&lt;script&gt;alert(" in page.text


async def read_sse(client: httpx.AsyncClient, url: str, *, messages: int) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    async with client.stream("GET", url) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        name = ""
        async for line in answer.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                found.append((name, json.loads(line.removeprefix("data: "))))
                if len(found) >= messages:
                    break
    return found


async def test_live_tail_stream_shape(live_url: str, env_a: Env, env_b: Env) -> None:
    """Over a real server: the stream stays open and sends the events stored after the page was read."""
    async with httpx.AsyncClient(base_url=live_url, timeout=20) as client:
        await capture(client, env_a, [event()])
        await sign_in(client, env_a.key, next_url="/events")
        page = await client.get("/events")
        stream_url = re.search(r'data-stream-url="([^"]+)"', page.text)
        assert stream_url
        url = stream_url.group(1).replace("&amp;", "&")
        assert "since=" in url
        await capture(client, env_b, [event()])  # another environment's event never shows
        new = await capture(client, env_a, [event(distinct_id="late"), event("$ai_span"), event(distinct_id="later")])
        [(name, data)] = await read_sse(client, url, messages=1)
        assert name == "events"
        assert [e["uuid"] for e in data["events"]] == [new[2], new[0]]  # newest first, generations only
        assert data["last_seq"] == data["events"][0]["seq"] and data["arrived"] == 2
        assert set(data["events"][0]) >= {"uuid", "seq", "event", "timestamp", "model", "distinct_id", "trace_id"}
        assert data["events"][0]["model"] == "gpt-4o-mini"
        assert (await client.get("/events/stream", params={"since": "-1"})).status_code == 422


async def test_a_sparse_filter_offers_to_look_further_back(client: httpx.AsyncClient, env_a: Env, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(event_pages, "SCAN_WINDOW", 10)
    batch = [event(**{"$ai_model": "needle" if i in (2, 25) else "hay"}) for i in range(30)]
    await capture(client, env_a, batch)
    await sign_in(client, env_a.key)
    page = await client.get("/events", params={"model": "needle"})
    assert shown_uuids(page.text) == [batch[25]["uuid"]] and 'id="search-window"' in page.text
    further = re.search(r'href="(/events\?[^"]*cursor=\d+)" rel="next">Look further back', page.text)
    assert further is not None
    seen = []
    url = html.unescape(further.group(1))
    while url:
        page = await client.get(url)
        seen += shown_uuids(page.text)
        found = re.search(r'href="(/events\?[^"]*cursor=\d+)" rel="next"', page.text)
        url = html.unescape(found.group(1)) if found else ""
    assert seen == [batch[2]["uuid"]]


async def test_a_flood_shows_the_newest_and_counts_every_event(live_url: str, env_a: Env) -> None:
    """More new events than one message holds: the newest are sent, and `arrived` counts all of them."""
    async with httpx.AsyncClient(base_url=live_url, timeout=20) as client:
        await sign_in(client, env_a.key, next_url="/events")
        page = await client.get("/events")
        url = re.search(r'data-stream-url="([^"]+)"', page.text).group(1).replace("&amp;", "&")
        flood = await capture(client, env_a, [event(distinct_id=f"user-{i}") for i in range(TAIL_BATCH + 30)])
        [(name, data)] = await read_sse(client, url, messages=1)
        assert name == "events" and data["arrived"] == TAIL_BATCH + 30
        assert [e["uuid"] for e in data["events"]] == flood[::-1][:TAIL_BATCH]


def tool_conversation(**props: Any) -> dict[str, Any]:
    return event(
        **{
            "$ai_input": [
                {"role": "system", "content": "You are a shop assistant."},
                {"role": "user", "content": [{"type": "text", "text": f"Where is order 42? {HOSTILE}"}]},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "track", "arguments": '{"id": 42}'}}
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "shipped"},
            ],
            "$ai_output_choices": [{"role": "assistant", "content": "Order 42 has shipped."}],
            "$ai_total_cost_usd": 0.0021,
            **props,
        }
    )


def evaluation_of(target: dict[str, Any], *, name: str, result: bool | None, reasoning: str) -> dict[str, Any]:
    from datetime import UTC, datetime

    from assay.domain.ai_events import build_evaluation_event_properties

    props = build_evaluation_event_properties(
        evaluation_id=uuid.uuid4(),
        evaluation_name=name,
        runtime="hog",
        start_time=datetime.now(UTC),
        allows_na=result is None,
        reasoning=reasoning,
        target_event_id=target["uuid"],
        target_event_type=target["event"],
        trace_id=target["properties"]["$ai_trace_id"],
        result=result,
    )
    return {
        "event": "$ai_evaluation",
        "distinct_id": target["distinct_id"],
        "uuid": str(uuid.uuid4()),
        "properties": props,
    }


async def test_transcript_figures_and_verdicts(client: httpx.AsyncClient, env_a: Env) -> None:
    target, other = tool_conversation(), event()
    verdicts = [
        evaluation_of(target, name="polite", result=True, reasoning="Says please."),
        evaluation_of(target, name="grounded", result=False, reasoning=f"Made up {HOSTILE}"),
        evaluation_of(target, name="on topic", result=None, reasoning="Not a question."),
        evaluation_of(other, name="elsewhere", result=True, reasoning="another event"),
    ]
    await capture(client, env_a, [target, other, *verdicts])
    await sign_in(client, env_a.key, next_url="/events")
    page = await client.get(f"/events/{target['uuid']}")
    assert page.status_code == 200, page.text
    html = page.text
    for role in ("role-system", "role-user", "role-assistant", "role-tool"):
        assert role in html
    assert "You are a shop assistant." in html and "Order 42 has shipped." in html
    assert "→ track({&#34;id&#34;: 42})" in html and "result of call_1" in html
    assert HOSTILE not in html and "&lt;script&gt;alert(" in html
    assert "$0.0021" in html and ">7<" in html and "0.5 s" in html
    section = html[html.index('id="verdicts"') :]
    assert "polite" in section and "grounded" in section and "on topic" in section and "elsewhere" not in section
    assert "status-passed" in section and "status-failed" in section and "N/A" in section
    assert "Says please." in section


async def test_add_to_dataset_creates_the_item_the_api_returns(app: Any, client: httpx.AsyncClient, env_a: Env) -> None:
    first = event(**{"$ai_trace_id": "t-add"})
    target = tool_conversation(**{"$ai_trace_id": "t-add"})
    first["timestamp"], target["timestamp"] = "2026-03-01T10:00:00Z", "2026-03-01T10:00:05Z"
    await capture(client, env_a, [first, target])
    dataset = await client.post(f"{env_a.api}/datasets", json={"name": "golden"}, headers=env_a.headers)
    assert dataset.status_code == 201
    dataset_id = dataset.json()["id"]

    reader = await add_key(app, env_a, ["event:read", "dataset:read"])
    await sign_in(client, reader, next_url="/events")
    page = await client.get(f"/events/{target['uuid']}")
    assert 'id="add-to-dataset"' not in page.text
    refused = await client.post(
        f"/events/{target['uuid']}/add-to-dataset", data={"dataset": dataset_id, "csrf_token": form_token(page.text)}
    )
    assert refused.status_code == 403

    client.cookies.clear()
    await sign_in(client, env_a.key, next_url="/events")
    page = await client.get(f"/events/{target['uuid']}")
    assert "golden" in page.text
    token = form_token(page.text)
    added = await client.post(
        f"/events/{target['uuid']}/add-to-dataset", data={"dataset": dataset_id, "csrf_token": token}
    )
    assert added.status_code == 303
    shown = await client.get(added.headers["location"])
    assert "Added to the dataset" in shown.text

    items = await client.get(f"{env_a.api}/dataset_items", params={"dataset": dataset_id}, headers=env_a.headers)
    [item] = items.json()["results"]
    assert item["ref_trace_id"] == "t-add"
    assert item["ref_source_id"] == target["uuid"]
    assert item["ref_timestamp"].startswith("2026-03-01T10:00:00")  # the trace's start, as PostHog sets it
    assert item["input"] == {"input": target["properties"]["$ai_input"]}
    assert item["output"] == {"output": target["properties"]["$ai_output_choices"]}
    assert f"/datasets/{dataset_id}/items/{item['id']}" in shown.text

    bad = await client.post(f"/events/{target['uuid']}/add-to-dataset", data={"dataset": "nope", "csrf_token": token})
    assert bad.status_code == 422
    unknown = {"dataset": str(uuid.uuid4()), "csrf_token": token}
    assert (await client.post(f"/events/{target['uuid']}/add-to-dataset", data=unknown)).status_code == 422


async def test_another_environments_event_is_not_found(client: httpx.AsyncClient, env_a: Env, env_b: Env) -> None:
    [mine] = await capture(client, env_a, [event()])
    await sign_in(client, env_b.key, next_url="/events")
    token = form_token((await client.get("/events")).text)
    for path in (f"/events/{mine}", f"/events/{uuid.uuid4()}"):
        answer = await client.get(path)
        assert answer.status_code == 404 and "Not found" in answer.text
    posted = await client.post(
        f"/events/{mine}/add-to-dataset", data={"dataset": str(uuid.uuid4()), "csrf_token": token}
    )
    assert posted.status_code == 404
    assert (await client.get(f"{env_b.api}/events/{mine}", headers=env_b.headers)).status_code == 404


async def test_trace_tree_timeline_and_evaluations(client: httpx.AsyncClient, env_a: Env, env_b: Env) -> None:
    trace = "trace-tree:1"

    def at(name: str, second: int, **props: Any) -> dict[str, Any]:
        made = event(name, **{"$ai_trace_id": trace, **props})
        made["timestamp"] = f"2026-03-01T10:00:{second:02d}Z"
        return made

    root = at("$ai_trace", 9, **{"$ai_span_name": "checkout", "$ai_latency": 9})
    span = at(
        "$ai_span", 8, **{"$ai_span_id": "s1", "$ai_parent_id": trace, "$ai_span_name": HOSTILE, "$ai_latency": 6}
    )
    first = at("$ai_generation", 4, **{"$ai_span_id": "g1", "$ai_parent_id": "s1", "$ai_latency": 2})
    second = at("$ai_generation", 7, **{"$ai_parent_id": "s1", "$ai_latency": 1, "$ai_input_tokens": 30})
    verdict = evaluation_of(second, name="helpful", result=False, reasoning="Too short.")
    await capture(client, env_a, [second, span, root, first, verdict])
    await sign_in(client, env_a.key, next_url="/events")
    page = await client.get(f"/traces/{trace}")
    assert page.status_code == 200, page.text
    html = page.text
    tree = html[html.index('id="tree"') :]
    # checkout › span › (first, second), each generation linked, the span's hostile name shown as text
    positions = [tree.index(f'/events/{e["uuid"]}"') for e in (root, span, first, second)]
    assert positions == sorted(positions)
    assert tree.count('<ul class="tree">') == 2
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert "helpful" in tree and "status-failed" in tree and "Too short." in tree
    timeline = html[html.index('id="timeline"') : html.index('id="tree"')]
    assert timeline.count("<rect") == 4 and "bar-generation" in timeline and "bar-span" in timeline
    assert "9.00 s" in timeline  # the axis ends at the trace's duration
    assert ">39<" in html and "37 in · 2 out" in html  # generations: 7 + 30 in, 1 + 1 out
    client.cookies.clear()
    await sign_in(client, env_b.key, next_url="/events")
    assert (await client.get(f"/traces/{trace}")).status_code == 404
    assert (await client.get("/traces/no-such-trace")).status_code == 404
