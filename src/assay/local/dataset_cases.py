"""Test cases from an LLM-analytics dataset: one case per (non-deleted) dataset item.

An item's `input` becomes the input message (a list of chat messages: the last user message, or all of them
as text); `output` becomes the expected behaviour; `metadata` may carry `name`, `expected_behavior`,
`expected_tool_calls` and `tags`, which take precedence.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson

from assay.domain.messages import content_text, extract_text_from_messages
from assay.errors import ResourceNotFound, ValidationFailed
from assay.storage import datasets as dataset_store
from assay.storage.db import Session


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        users = [m for m in value if isinstance(m, dict) and m.get("role") == "user"]
        if users:
            return content_text(users[-1].get("content"))
        return extract_text_from_messages(value)
    if isinstance(value, dict):
        for key in ("input", "message", "content", "text", "question"):
            if isinstance(value.get(key), str):
                return value[key]
    return orjson.dumps(value).decode()


def case_from_item(item: dict[str, Any]) -> dict[str, Any] | None:
    """A suite-file case from a dataset item (its API shape), or None when it has no usable input."""
    metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
    text = _as_text(item.get("input")).strip()
    if not text:
        return None
    expected = metadata.get("expected_behavior")
    if expected is None and item.get("output") not in (None, ""):
        expected = _as_text(item.get("output"))
    tags = metadata.get("tags")
    return {
        "input": text,
        "name": str(metadata.get("name") or item["id"]),
        "expected_behavior": expected,
        "expected_tool_calls": metadata.get("expected_tool_calls") or None,
        "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
    }


async def local_dataset_cases(session: Session, environment_id: uuid.UUID, dataset: str) -> list[dict[str, Any]]:
    """Cases from a dataset of the local database, named by id or name."""
    row = await dataset_store.find_dataset(session=session, environment_id=environment_id, id_or_name=dataset)
    if row is None:
        raise ResourceNotFound(f"no dataset {dataset!r} in the local environment")
    items = await dataset_store.all_dataset_items(session=session, dataset_id=row.id)
    cases = [
        case_from_item({"id": str(i.id), "input": i.input, "output": i.output, "metadata": i.metadata_}) for i in items
    ]
    return _checked([c for c in cases if c is not None], dataset)


async def remote_dataset_cases(client: httpx.AsyncClient, dataset: str) -> list[dict[str, Any]]:
    """Cases from a dataset on the server (the client carries base URL and key)."""
    base = "/api/environments/@current"
    try:
        uuid.UUID(dataset)
        r = await client.get(f"{base}/datasets/{dataset}")
        found = r.json() if r.status_code == 200 else None
    except ValueError:
        found = None
    if found is None:
        r = await client.get(f"{base}/datasets", params={"search": dataset, "limit": 1000})
        r.raise_for_status()
        found = next((d for d in r.json()["results"] if d["name"] == dataset), None)
    if found is None:
        raise ResourceNotFound(f"no dataset {dataset!r} on the server")
    cases: list[dict[str, Any]] = []
    url: str | None = f"{base}/dataset_items?dataset={found['id']}&limit=500"
    items: list[dict[str, Any]] = []
    while url:
        r = await client.get(url)
        r.raise_for_status()
        page = r.json()
        items.extend(page["results"])
        url = page["next"]
    items.sort(key=lambda i: (i["created_at"], i["id"]))
    cases = [c for c in (case_from_item(i) for i in items) if c is not None]
    return _checked(cases, dataset)


def _checked(cases: list[dict[str, Any]], dataset: str) -> list[dict[str, Any]]:
    if not cases:
        raise ValidationFailed(f"dataset {dataset!r} has no items with an input", attr="dataset")
    return cases
