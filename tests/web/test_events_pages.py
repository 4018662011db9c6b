"""The events, event and trace pages over HTTP: filters, keyset pages, the live tail, transcripts, verdicts,
add to dataset, tenancy and escaping. Events arrive through the capture endpoint with the project token."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx

from tests.conftest import Env, add_key
from tests.web.conftest import sign_in

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
        assert data["last_seq"] == data["events"][0]["seq"]
        assert set(data["events"][0]) >= {"uuid", "seq", "event", "timestamp", "model", "distinct_id", "trace_id"}
        assert data["events"][0]["model"] == "gpt-4o-mini"
        assert (await client.get("/events/stream", params={"since": "-1"})).status_code == 422
