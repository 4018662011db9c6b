"""Test cases from an LLM-analytics dataset, local or on a server: one case per (non-deleted) dataset item.

The mapping of an item to a case is `assay.domain.dataset_cases.case_from_item`.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from assay.domain.dataset_cases import case_from_item
from assay.errors import ResourceNotFound, ValidationFailed
from assay.storage import datasets as dataset_store
from assay.storage.db import Session


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
