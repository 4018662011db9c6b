"""Capture endpoints: the real posthog-python SDK against a live server, posthog-js bodies, errors."""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from urllib.parse import quote

import pytest
from posthog import Posthog


def generation(trace: str = "trace-1", **props: object) -> dict:
    return {
        "$ai_trace_id": trace,
        "$ai_model": "gpt-4o-mini",
        "$ai_input": [{"role": "user", "content": "What is 2+2?"}],
        "$ai_output_choices": [{"role": "assistant", "content": "4"}],
        "$ai_input_tokens": 7,
        **props,
    }


def event(name: str = "$ai_generation", **extra: object) -> dict:
    return {
        "event": name,
        "distinct_id": "user-1",
        "uuid": str(uuid.uuid4()),
        "properties": generation() if name == "$ai_generation" else {},
        **extra,
    }


async def stored(client, env, **params):  # noqa: ANN001, ANN201
    r = await client.get(f"{env.api}/events", params=params, headers=env.headers)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("use_gzip", [False, True])
async def test_posthog_python_sdk_events_appear(client, env_a, live_url, use_gzip, monkeypatch) -> None:
    monkeypatch.delenv("POSTHOG_CAPTURE_MODE", raising=False)
    ph = Posthog(env_a.project_token, host=live_url, sync_mode=True, gzip=use_gzip, max_retries=0)
    ids = [
        ph.capture("$ai_generation", distinct_id="user-1", properties=generation("trace-a")),
        ph.capture_ai("$ai_generation", distinct_id="user-2", properties=generation("trace-b", **{"$ai_latency": 1.5})),
        ph.capture("signed up", distinct_id="user-1", properties={"plan": "pro"}),
    ]
    ph.flush()
    ph.shutdown()

    page = await stored(client, env_a, event="$ai_generation")
    assert page["count"] == 2
    by_id = {e["uuid"]: e for e in page["results"]}
    assert set(by_id) == set(ids[:2])
    gen = by_id[ids[1]]
    assert gen["id"] == ids[1] and gen["trace_id"] == "trace-b" and gen["distinct_id"] == "user-2"
    assert gen["properties"]["$ai_latency"] == 1.5 and gen["properties"]["$lib"] == "posthog-python"
    assert gen["properties"]["$ai_output_choices"] == [{"role": "assistant", "content": "4"}]
    assert (await stored(client, env_a))["count"] == 3


async def test_sdk_retry_is_stored_once(client, env_a, live_url, monkeypatch) -> None:
    monkeypatch.delenv("POSTHOG_CAPTURE_MODE", raising=False)
    ph = Posthog(env_a.project_token, host=live_url, sync_mode=True, max_retries=0)
    fixed = str(uuid.uuid4())
    for _ in range(2):
        assert ph.capture("$ai_generation", distinct_id="u", properties=generation(), uuid=fixed) == fixed
    ph.shutdown()
    page = await stored(client, env_a)
    assert page["count"] == 1 and page["results"][0]["uuid"] == fixed


async def test_capture_over_http_plain_and_gzip(client, env_a) -> None:
    ev = event()
    body = {"api_key": env_a.project_token, "batch": [ev]}
    r = await client.post("/batch/", json=body)
    assert r.status_code == 200 and r.json() == {"status": 1}
    raw = gzip.compress(json.dumps({"api_key": env_a.project_token, "batch": [event(), ev]}).encode())
    r = await client.post(
        "/batch", content=raw, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    assert r.status_code == 200 and r.json() == {"status": 1}
    assert (await stored(client, env_a))["count"] == 2  # `ev` was sent twice


@pytest.mark.parametrize("path", ["/capture/", "/capture", "/e/", "/e", "/i/v0/e/", "/i/v0/e", "/i/v0/ai/batch/"])
async def test_every_capture_path(client, env_a, path) -> None:
    single = {**event(), "api_key": env_a.project_token}
    r = await client.post(path, json=single)
    assert r.status_code == 200 and r.json() == {"status": 1}
    page = await stored(client, env_a)
    assert [e["uuid"] for e in page["results"]] == [single["uuid"]]


async def test_posthog_js_bodies(client, env_a) -> None:
    token = env_a.project_token
    first = {**event("$pageview"), "properties": {"token": token, "$current_url": "https://x.test/"}}
    second = {**event(), "properties": {**generation(), "token": token}}
    third = {**event("clicked"), "properties": {"token": token}}
    b64 = base64.b64encode(json.dumps([first]).encode()).decode()
    r = await client.post(
        "/e/?compression=base64",
        content=f"data={quote(b64, safe='')}&compression=base64",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/e/?compression=gzip-js&ver=1.200.0&_=1700000000000",
        content=gzip.compress(json.dumps([second]).encode()),
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 200, r.text
    r = await client.get("/e/", params={"data": base64.b64encode(json.dumps(third).encode()).decode()})
    assert r.status_code == 200 and r.json() == {"status": 1}
    names = sorted(e["event"] for e in (await stored(client, env_a))["results"])
    assert names == ["$ai_generation", "$pageview", "clicked"]


async def test_token_in_query(client, env_a) -> None:
    r = await client.post(f"/i/v0/e/?token={env_a.project_token}", json=[event()])
    assert r.status_code == 200
    assert (await stored(client, env_a))["count"] == 1


async def test_bad_event_rejected_others_stored(client, env_a) -> None:
    good = [event(), event("custom")]
    bad = [
        {"event": "", "distinct_id": "u"},
        {"event": "$ai_generation", "distinct_id": "u", "properties": {"$ai_input_tokens": "many"}},
        "not an event",
        {"event": "x", "distinct_id": "u", "properties": {"text": "nul\x00here"}},
    ]
    batch = [bad[0], good[0], bad[1], bad[2], good[1], bad[3]]
    r = await client.post("/batch/", json={"api_key": env_a.project_token, "batch": batch})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == 1
    rejected = {x["index"]: x["reason"] for x in body["rejected"]}
    assert sorted(rejected) == [0, 2, 3, 5]
    assert rejected[0] == "event name is empty"
    assert "$ai_input_tokens must be a number" in rejected[2]
    assert rejected[3] == "event must be a JSON object"
    assert "Null characters" in rejected[5]
    page = await stored(client, env_a)
    assert {e["uuid"] for e in page["results"]} == {g["uuid"] for g in good}


async def test_storable_check_is_exact_whatever_the_shortcut(client, env_a) -> None:
    deep: object = "bottom"
    for _ in range(70):
        deep = [deep]
    wide = {f"k{i}": [{"v": i}] for i in range(60)}  # many brackets, shallow
    batch = [
        {"event": "x", "distinct_id": "u", "properties": {"key\x00": 1}},
        {"event": "x", "distinct_id": "u", "properties": {"deep": deep}},
        {"event": "x", "distinct_id": "u", "uuid": str(uuid.uuid4()), "properties": {"text": "a literal \\u0000"}},
        {"event": "x", "distinct_id": "u", "uuid": str(uuid.uuid4()), "properties": wide},
        {"event": "x", "distinct_id": "nul\x00id"},
    ]
    r = await client.post("/batch/", json={"api_key": env_a.project_token, "batch": batch})
    rejected = {x["index"]: x["reason"] for x in r.json()["rejected"]}
    assert sorted(rejected) == [0, 1, 4]
    assert "Null characters" in rejected[0] and "deeper than 64" in rejected[1] and "Null characters" in rejected[4]
    page = await stored(client, env_a)
    assert {e["uuid"] for e in page["results"]} == {batch[2]["uuid"], batch[3]["uuid"]}
    texts = [e["properties"].get("text") for e in page["results"]]
    assert "a literal \\u0000" in texts


async def test_unknown_or_missing_token_is_401(client, env_a) -> None:
    r = await client.post("/batch/", json={"api_key": "phc_nope", "batch": [event()]})
    assert r.status_code == 401
    assert r.json()["type"] == "authentication_error" and "invalid" in r.json()["detail"]
    r = await client.post("/batch/", json={"batch": [event()]})
    assert r.status_code == 401 and "missing" in r.json()["detail"]
    assert (await stored(client, env_a))["count"] == 0


async def test_token_routes_to_its_own_environment(client, env_a, env_b) -> None:
    r = await client.post("/batch/", json={"api_key": env_b.project_token, "batch": [event()]})
    assert r.status_code == 200
    assert (await stored(client, env_a))["count"] == 0
    assert (await stored(client, env_b))["count"] == 1


@pytest.mark.parametrize(
    ("content", "headers", "needle"),
    [
        (b"{not json", {"Content-Type": "application/json"}, "not valid JSON"),
        (b"\x1f\x8b\x08\x00garbage", {"Content-Encoding": "gzip"}, "gzip"),
        (b"", {}, "empty"),
        (b'{"foo": 1}', {"Content-Type": "application/json"}, "no events"),
    ],
)
async def test_undecodable_body_is_400(client, content, headers, needle) -> None:
    r = await client.post("/batch/", content=content, headers=headers)
    assert r.status_code == 400
    assert r.json()["type"] == "validation_error" and needle in r.json()["detail"]


async def test_get_without_data_is_400_and_cors(client) -> None:
    r = await client.get("/e/")
    assert r.status_code == 400 and "data" in r.json()["detail"]
    r = await client.options("/batch/")
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == "*"
