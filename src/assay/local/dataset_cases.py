"""Test cases from an LLM-analytics dataset, local or on a server: one case per active item of the dataset at a
revision (the current one unless a revision is pinned), with the revision read, so a run records it.

The mapping of an item to a case is `assay.domain.dataset_cases.case_from_item`.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from assay.domain.dataset_cases import case_from_item
from assay.errors import ResourceNotFound, ValidationFailed
from assay.storage import dataset_revisions as revisions
from assay.storage import datasets as dataset_store
from assay.storage.db import Session

Pin = dict[str, Any]
"""The dataset revision cases were read at: `{id, name, revision, revision_id}`."""


async def local_dataset_cases(
    session: Session, environment_id: uuid.UUID, dataset: str, *, revision: int | None = None
) -> tuple[list[dict[str, Any]], Pin]:
    """Cases from a dataset of the local database (by id or name) at `revision` (default: current), and the pin."""
    row = await dataset_store.find_dataset(session=session, environment_id=environment_id, id_or_name=dataset)
    if row is None:
        raise ResourceNotFound(f"no dataset {dataset!r} in the local environment")
    found = await revisions.resolve_revision(session=session, dataset=row, revision=revision, at=None)
    if found is None:
        raise ValidationFailed(f"dataset {dataset!r} has no items", attr="dataset")
    versions = await revisions.active_versions_at(session=session, dataset_id=row.id, revision=found.number)
    cases = [
        case_from_item({"id": str(v.item_id), "input": v.input, "output": v.output, "metadata": v.metadata_})
        for v in versions
    ]
    pin = {"id": str(row.id), "name": row.name, "revision": found.number, "revision_id": str(found.id)}
    return _checked([c for c in cases if c is not None], dataset), pin


async def _find_remote(client: httpx.AsyncClient, base: str, dataset: str) -> dict[str, Any] | None:
    try:
        uuid.UUID(dataset)
        r = await client.get(f"{base}/datasets/{dataset}/")
        if r.status_code == 200:
            return dict(r.json())
    except ValueError:
        pass
    r = await client.get(f"{base}/datasets/", params={"search": dataset, "limit": 100})
    r.raise_for_status()
    return next((d for d in r.json()["results"] if d["name"] == dataset), None)


async def remote_dataset_cases(
    client: httpx.AsyncClient, dataset: str, *, revision: int | None = None
) -> tuple[list[dict[str, Any]], Pin]:
    """Cases from a dataset on the server (the client carries base URL and key) at `revision`, and the pin."""
    base = "/api/projects/@current"
    found = await _find_remote(client, base, dataset)
    if found is None:
        raise ResourceNotFound(f"no dataset {dataset!r} on the server")
    number = revision or found["current_revision"]
    if number is None:
        raise ValidationFailed(f"dataset {dataset!r} has no items", attr="dataset")
    if number > found["current_revision"]:
        raise ResourceNotFound(f"dataset {dataset!r} has no revision {number}")
    r = await client.get(
        f"{base}/datasets/{found['id']}/revisions/", params={"limit": 1, "offset": found["current_revision"] - number}
    )
    r.raise_for_status()
    listed = [x for x in r.json()["results"] if x["revision"] == number]
    if not listed:
        raise ResourceNotFound(f"dataset {dataset!r} has no revision {number}")
    items: list[dict[str, Any]] = []
    url: str | None = f"{base}/dataset_items/"
    params: dict[str, Any] | None = {"dataset": found["id"], "revision": number, "limit": 500}
    while url:
        r = await client.get(url, params=params)
        r.raise_for_status()
        page = r.json()
        items.extend(page["results"])
        url, params = page["next"], None
    cases = [
        case_from_item({"id": i["id"], "input": i["input"], "output": i["expected_output"], "metadata": i["metadata"]})
        for i in items
    ]
    pin = {"id": found["id"], "name": found["name"], "revision": number, "revision_id": listed[0]["id"]}
    return _checked([c for c in cases if c is not None], dataset), pin


def _checked(cases: list[dict[str, Any]], dataset: str) -> list[dict[str, Any]]:
    if not cases:
        raise ValidationFailed(f"dataset {dataset!r} has no items with an input", attr="dataset")
    return cases
