"""What resource methods accept beyond plain values: the literal choices, and bodies built from several arguments."""

from __future__ import annotations

import json
import uuid as uuid_module
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from assay.client._base import ID, body, query
from assay.client._models import RecipeItem
from assay.client._pagination import Params

InstanceKind = Literal["openai_chat", "http"]
EvaluationType = Literal["llm_judge", "hog", "python"]
Provider = Literal["openai", "anthropic", "gemini", "openrouter", "fireworks", "azure_openai"]
DEFAULT_PAGE_SIZE = 100


def recipe_items(items: Sequence[RecipeItem | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Recipe items as JSON objects, whether given as `RecipeItem`s or mappings."""
    return [i.model_dump(mode="json") if isinstance(i, RecipeItem) else dict(i) for i in items]


def event_body(
    event: str,
    distinct_id: str,
    properties: Mapping[str, Any] | None,
    uuid: ID | None,
    timestamp: datetime | str | None,
) -> dict[str, Any]:
    """One event; a uuid is made when none is given, so that a resent event is stored once."""
    return body(
        event=event,
        distinct_id=distinct_id,
        properties=dict(properties or {}),
        uuid=str(uuid or uuid_module.uuid4()),
        **({"timestamp": timestamp} if timestamp else {}),
    )


def event_query(
    event: str | None,
    after: datetime | str | None,
    before: datetime | str | None,
    trace_id: str | None,
    distinct_id: str | None,
    properties: Sequence[Mapping[str, Any]] | None,
) -> Params:
    """The filters of an event list; `properties` travel as one JSON array."""
    props = json.dumps([dict(p) for p in properties]) if properties else None
    return query(event=event, after=after, before=before, trace_id=trace_id, distinct_id=distinct_id, properties=props)
