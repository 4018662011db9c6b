"""A captured event after normalisation: what ingestion hands to storage and what online evaluation emits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class NormalizedEvent:
    """A validated event ready to store."""

    uuid: str
    event: str
    distinct_id: str
    timestamp: datetime
    properties: dict[str, Any]
    trace_id: str | None = None
    uuid_generated: bool = False
    warnings: tuple[str, ...] = ()
    properties_json: str | None = None
    """`properties` as compact JSON when normalising already encoded them (stored as is), else None."""
