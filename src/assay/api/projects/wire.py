"""The response shapes `posthog.ai.evaluations` parses: datasets, revisions and item versions."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from assay.api.errors import DrfError
from assay.api.llm_analytics.common import ERROR_RESPONSES, parse_bool_param, user_basic
from assay.errors import ValidationFailed
from assay.storage.dataset_revision_tables import DatasetItemVersionRow, DatasetRevisionRow
from assay.storage.tables import ApiKeyRow, DatasetItemRow, DatasetRow

PROJECT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    409: {
        "model": DrfError,
        "description": "Conflicts with the current state (a stale version, a replay that differs).",
    },
}
"""The error answers of the `/api/projects/` routes."""


def user_json(key: ApiKeyRow | None) -> dict[str, Any] | None:
    """Who created something, as the SDK reads it (or None)."""
    found = user_basic(key)
    return None if found is None else found.model_dump()


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def dataset_json(row: DatasetRow, *, team_id: int, revision_id: str | None) -> dict[str, Any]:
    """A dataset as the SDK's `Dataset`."""
    return {
        "id": str(row.id),
        "name": row.name,
        "description": row.description or "",
        "metadata": _object(row.metadata_),
        "tags": list(row.tags or []),
        "archived": bool(row.deleted),
        "current_revision": row.current_revision,
        "current_revision_id": revision_id,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
        "created_by": user_json(row.created_by),
        "team_id": team_id,
    }


def revision_json(row: DatasetRevisionRow, *, team_id: int) -> dict[str, Any]:
    """A revision as the SDK's `DatasetRevision`."""
    return {
        "id": str(row.id),
        "dataset_id": str(row.dataset_id),
        "revision": row.revision,
        "created_at": row.created_at.isoformat(),
        "created_by": user_json(row.created_by),
        "team_id": team_id,
    }


def item_json(
    item: DatasetItemRow, version: DatasetItemVersionRow, *, revision_id: str, team_id: int
) -> dict[str, Any]:
    """One item version as the SDK's `DatasetItem` (`revision_id`: the id of the revision that introduced it)."""
    return {
        "id": str(item.id),
        "dataset": str(version.dataset_id),
        "client_item_id": item.client_item_id,
        "version": version.version,
        "version_id": str(version.id),
        "dataset_revision": version.valid_from,
        "dataset_revision_id": revision_id,
        "archived": version.archived,
        "input": version.input,
        "expected_output": version.output,
        "source_output": version.source_output,
        "metadata": _object(version.metadata_),
        "source_trace_id": version.ref_trace_id,
        "source_event_id": version.ref_source_id,
        "source_timestamp": version.ref_timestamp.isoformat() if version.ref_timestamp else None,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat() if item.updated_at else None,
        "created_by": user_json(item.created_by),
        "version_created_at": version.created_at.isoformat(),
        "version_created_by": user_json(version.created_by),
        "team_id": team_id,
    }


def archived_param(
    archived: Annotated[str | None, Query(description="true: only archived ones; default false.")] = None,
) -> bool:
    """The `archived` query parameter (default false)."""
    return bool(parse_bool_param(archived, "archived"))


def parse_tags_param(raw: str | None) -> list[str] | None:
    """`tags` as the SDK sends it: a JSON list of names."""
    if raw is None or raw == "":
        return None
    try:
        tags = json.loads(raw)
    except ValueError:
        tags = None
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValidationFailed("Enter a JSON list of tag names.", attr="tags", code="invalid")
    return [t.strip().lower() for t in tags if t.strip()]


def revision_params(
    revision: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="A dataset revision number.")] = None,
    at: Annotated[
        datetime | None, Query(description="A time: the revision current then (when `revision` is not given).")
    ] = None,
) -> tuple[int | None, datetime | None]:
    """Which revision a read is at: `revision` (the SDK's), or `at` (Assay's: a time), or neither (the current)."""
    if at is not None and at.tzinfo is None:
        raise ValidationFailed("Give the time with a timezone.", attr="at", code="invalid")
    return revision, at
