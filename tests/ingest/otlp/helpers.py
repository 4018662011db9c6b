"""Recorded OTLP payloads (JSON, written for the tests) and helpers to send them and read the stored events."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Env

PAYLOADS = Path(__file__).with_name("payloads")


def payload(name: str) -> dict[str, Any]:
    """A recorded payload file: `{"description", "traces"?, "logs"?}` (a fresh copy each time)."""
    return copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text()))


async def export(
    client: httpx.AsyncClient, env: Env, signal: str, doc: dict[str, Any], *, path: str | None = None
) -> dict[str, Any]:
    """POST an OTLP JSON export request with the project token; returns the (JSON) answer, asserting a 200."""
    r = await client.post(
        path or f"/v1/{signal}",
        content=json.dumps(doc),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {env.project_token}"},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def stored(client: httpx.AsyncClient, env: Env, event: str | None = None) -> list[dict[str, Any]]:
    """The environment's stored events (optionally of one name), oldest first."""
    params: dict[str, Any] = {"limit": 100}
    if event:
        params["event"] = event
    r = await client.get(f"{env.api}/events", params=params, headers=env.headers)
    assert r.status_code == 200, r.text
    return sorted(r.json()["results"], key=lambda e: e["timestamp"])


def by_span(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Events keyed by `$ai_span_id`."""
    return {e["properties"]["$ai_span_id"]: e for e in events}
