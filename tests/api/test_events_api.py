"""`/api/environments/{id}/events`: ingest with an API key, list with filters, retrieve, scopes and isolation."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import add_key

NOW = datetime.now(UTC).replace(microsecond=0)


def ai_event(
    *, minutes_ago: int = 0, trace: str = "t1", model: str = "gpt-4o", distinct_id: str = "user-1", **extra: object
) -> dict:
    return {
        "event": "$ai_generation",
        "distinct_id": distinct_id,
        "uuid": str(uuid.uuid4()),
        "timestamp": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "properties": {"$ai_trace_id": trace, "$ai_model": model, "$ai_input_tokens": 10},
        **extra,
    }


async def post(client, env, body, **kwargs):  # noqa: ANN001, ANN201
    return await client.post(f"{env.api}/events", json=body, headers=env.headers, **kwargs)


async def listing(client, env, **params):  # noqa: ANN001, ANN201
    r = await client.get(f"{env.api}/events", params=params, headers=env.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_post_single_event_then_duplicate(client, env_a) -> None:
    ev = ai_event()
    r = await post(client, env_a, ev)
    assert r.status_code == 200
    assert r.json() == {"accepted": 1, "stored": 1, "duplicates": 0, "rejected": [], "warnings": []}
    r = await post(client, env_a, ev)
    assert r.json() == {"accepted": 1, "stored": 0, "duplicates": 1, "rejected": [], "warnings": []}
    got = await client.get(f"{env_a.api}/events/{ev['uuid']}", headers=env_a.headers)
    assert got.status_code == 200
    body = got.json()
    assert list(body) == ["id", "uuid", "event", "distinct_id", "timestamp", "properties", "trace_id", "created_at"]
    assert body["uuid"] == body["id"] == ev["uuid"] and body["trace_id"] == "t1"
    assert datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00")) == NOW
    assert body["properties"] == ev["properties"]


async def test_post_batch_reports_rejections_and_warnings(client, env_a) -> None:
    no_trace = ai_event()
    no_trace["properties"].pop("$ai_trace_id")
    batch = [ai_event(), {"event": "x"}, no_trace, ai_event(properties={"$ai_trace_id": {"a": 1}})]
    r = await post(client, env_a, {"batch": batch})
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 2 and body["stored"] == 2
    assert body["rejected"] == [
        {"index": 1, "reason": "distinct_id is missing"},
        {"index": 3, "reason": "invalid $ai_generation event: $ai_trace_id must be a string, got object"},
    ]
    assert body["warnings"] == [
        {"index": 2, "warnings": ["$ai_trace_id is missing (documented as required for $ai_generation)"]}
    ]


async def test_post_list_and_gzip(client, env_a) -> None:
    r = await post(client, env_a, [ai_event(), ai_event()])
    assert r.json()["stored"] == 2
    raw = gzip.compress(json.dumps({"batch": [ai_event()]}).encode())
    r = await client.post(
        f"{env_a.api}/events",
        content=raw,
        headers={**env_a.headers, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 200 and r.json()["stored"] == 1
    assert (await listing(client, env_a))["count"] == 3


@pytest.mark.parametrize("content", [b"{bad", b"", b'{"nothing": true}'])
async def test_post_undecodable_is_400(client, env_a, content) -> None:
    r = await client.post(
        f"{env_a.api}/events", content=content, headers={**env_a.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["type"] == "validation_error" and r.json()["code"] == "parse_error" and r.json()["detail"]


async def test_list_newest_first_with_filters(client, env_a) -> None:
    old = ai_event(minutes_ago=60, trace="t-old", distinct_id="alice")
    mid = ai_event(minutes_ago=30, trace="t-mid", model="claude")
    new = ai_event(minutes_ago=1, trace="t-mid")
    other = {"event": "signed up", "distinct_id": "alice", "timestamp": NOW.isoformat()}
    await post(client, env_a, {"batch": [mid, other, old, new]})

    page = await listing(client, env_a, event="$ai_generation")
    assert [e["uuid"] for e in page["results"]] == [new["uuid"], mid["uuid"], old["uuid"]]
    assert page["count"] == 3 and page["next"] is None and page["previous"] is None
    assert (await listing(client, env_a))["count"] == 4
    assert {e["uuid"] for e in (await listing(client, env_a, trace_id="t-mid"))["results"]} == {
        new["uuid"],
        mid["uuid"],
    }
    assert (await listing(client, env_a, distinct_id="alice"))["count"] == 2
    after = (NOW - timedelta(minutes=45)).isoformat()
    before = (NOW - timedelta(minutes=10)).isoformat()
    assert [e["uuid"] for e in (await listing(client, env_a, after=after, before=before))["results"]] == [mid["uuid"]]
    assert (await listing(client, env_a, after="2020-01-01"))["count"] == 4  # date only, zone-less = UTC

    first = await listing(client, env_a, event="$ai_generation", limit=2)
    assert [e["uuid"] for e in first["results"]] == [new["uuid"], mid["uuid"]]
    assert first["next"] and "offset=2" in first["next"]
    second = await listing(client, env_a, event="$ai_generation", limit=2, offset=2)
    assert [e["uuid"] for e in second["results"]] == [old["uuid"]] and second["previous"]


async def test_list_property_filters(client, env_a) -> None:
    events = [ai_event(minutes_ago=i, model=m) for i, m in enumerate(["gpt-4o", "claude", "gpt-4o-mini", "gpt-4o"])]
    await post(client, env_a, {"batch": events})
    exact = json.dumps([{"key": "$ai_model", "value": "gpt-4o", "operator": "exact", "type": "event"}])
    page = await listing(client, env_a, properties=exact)
    assert [e["uuid"] for e in page["results"]] == [events[0]["uuid"], events[3]["uuid"]] and page["count"] == 2
    contains = json.dumps([{"key": "$ai_model", "value": "gpt", "operator": "icontains"}])
    page = await listing(client, env_a, properties=contains, limit=2, offset=1)
    assert page["count"] == 3 and [e["uuid"] for e in page["results"]] == [events[2]["uuid"], events[3]["uuid"]]
    both = json.dumps(
        [
            {"key": "$ai_model", "value": "gpt", "operator": "icontains"},
            {"key": "$ai_input_tokens", "value": 5, "operator": "gt"},
        ]
    )
    assert (await listing(client, env_a, properties=both, event="$ai_generation"))["count"] == 3
    assert (await listing(client, env_a, properties="[]"))["count"] == 4


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"after": "yesterday"}, "after"),
        ({"before": "2024-13-01"}, "before"),
        ({"properties": "{not json"}, "properties"),
        ({"properties": '{"key": "a"}'}, "properties"),
        ({"properties": '[{"key": "a", "operator": "sounds_like"}]'}, "properties"),
    ],
)
async def test_list_bad_params_are_400(client, env_a, params, attr) -> None:
    r = await client.get(f"{env_a.api}/events", params=params, headers=env_a.headers)
    assert r.status_code == 400 and r.json()["attr"] == attr


async def test_retrieve_missing_is_404(client, env_a) -> None:
    for bad in (str(uuid.uuid4()), "not-a-uuid"):
        r = await client.get(f"{env_a.api}/events/{bad}", headers=env_a.headers)
        assert r.status_code == 404 and r.json()["code"] == "not_found"


async def test_tenant_isolation(client, env_a, env_b) -> None:
    ev = ai_event()
    assert (await post(client, env_b, ev)).json()["stored"] == 1
    # env_a's key on env_b's URL: 403; env_b's event through env_a's URL: 404; not listed for env_a
    assert (await client.get(f"{env_b.api}/events", headers=env_a.headers)).status_code == 403
    assert (await client.post(f"{env_b.api}/events", json=ai_event(), headers=env_a.headers)).status_code == 403
    assert (await client.get(f"{env_a.api}/events/{ev['uuid']}", headers=env_a.headers)).status_code == 404
    assert (await listing(client, env_a))["count"] == 0
    # the same uuid in another environment is a different event, not a duplicate
    assert (await post(client, env_a, ev)).json()["stored"] == 1
    assert (await listing(client, env_b))["count"] == 1


async def test_scopes(client, app, env_a) -> None:
    await post(client, env_a, ai_event())
    url = f"{env_a.api}/events"
    reader = {"Authorization": f"Bearer {await add_key(app, env_a, ['evaluation:read'])}"}
    writer = {"Authorization": f"Bearer {await add_key(app, env_a, ['event:write'])}"}
    other = {"Authorization": f"Bearer {await add_key(app, env_a, ['dataset:read', 'dataset:write'])}"}
    assert (await client.get(url, headers=reader)).status_code == 200
    r = await client.post(url, json=ai_event(), headers=reader)
    assert r.status_code == 403 and "event:write" in r.json()["detail"]
    assert (await client.post(url, json=ai_event(), headers=writer)).status_code == 200
    r = await client.get(url, headers=writer)  # an ingesting key does not read what was logged
    assert r.status_code == 403 and "event:read" in r.json()["detail"]
    r = await client.get(url, headers=other)
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert (await client.get(url)).status_code == 401
    assert (await client.post(url, json=ai_event())).status_code == 401


async def test_event_read_scope_reads_and_event_write_alone_does_not(client, app, env_a) -> None:
    stored = ai_event()
    await post(client, env_a, stored)
    url = f"{env_a.api}/events"
    one = f"{url}/{stored['uuid']}"
    writer = {"X-Api-Key": await add_key(app, env_a, ["event:write"])}
    for target in (url, one, f"{url}?event=$ai_generation"):
        r = await client.get(target, headers=writer)
        assert r.status_code == 403, (target, r.text)
        assert r.json()["code"] == "permission_denied" and "event:read" in r.json()["detail"]
    reader = {"X-Api-Key": await add_key(app, env_a, ["event:read"])}
    listed = await client.get(url, headers=reader)
    assert listed.status_code == 200 and [e["uuid"] for e in listed.json()["results"]] == [stored["uuid"]]
    assert (await client.get(one, headers=reader)).json()["uuid"] == stored["uuid"]
    r = await client.post(url, json=ai_event(), headers=reader)  # reading does not ingest
    assert r.status_code == 403 and "event:write" in r.json()["detail"]
    both = {"X-Api-Key": await add_key(app, env_a, ["event:read", "event:write"])}
    assert (await client.post(url, json=ai_event(), headers=both)).status_code == 200
    assert (await client.get(url, headers=both)).json()["count"] == 2
