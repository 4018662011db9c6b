"""Reads and writes of `otlp_pending`: the OTLP spans and log events waiting to be joined (keyword-only)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_, update

from assay.storage.db import Session
from assay.storage.otlp_tables import OtlpPendingRow

_CHUNK = 200


@dataclass(frozen=True, slots=True)
class PendingPart:
    """A waiting span (`kind="span"`) or log content (`kind="log"`) of one span of an environment."""

    id: uuid.UUID
    environment_id: uuid.UUID
    trace_id: str
    span_id: str
    kind: str
    payload: dict[str, Any]


def _part(row: OtlpPendingRow) -> PendingPart:
    return PendingPart(row.id, row.environment_id, row.trace_id, row.span_id, row.kind, row.payload)


async def pending_parts(
    *, session: Session, environment_id: uuid.UUID, keys: Iterable[tuple[str, str]]
) -> list[PendingPart]:
    """The waiting parts of the given (trace id, span id) keys, oldest first."""
    wanted = sorted(set(keys))
    parts: list[PendingPart] = []
    for start in range(0, len(wanted), _CHUNK):
        rows = await session.scalars(
            select(OtlpPendingRow)
            .where(
                OtlpPendingRow.environment_id == environment_id,
                tuple_(OtlpPendingRow.trace_id, OtlpPendingRow.span_id).in_(wanted[start : start + _CHUNK]),
            )
            .order_by(OtlpPendingRow.id)
        )
        parts.extend(_part(r) for r in rows)
    return parts


async def add_parts(
    *,
    session: Session,
    environment_id: uuid.UUID,
    parts: Sequence[tuple[str, str, str, dict[str, Any]]],
    expires_at: datetime,
) -> None:
    """Store (trace id, span id, kind, payload) parts waiting until `expires_at`; the caller commits."""
    session.add_all(
        OtlpPendingRow(
            environment_id=environment_id,
            trace_id=trace_id,
            span_id=span_id,
            kind=kind,
            payload=payload,
            expires_at=expires_at,
        )
        for trace_id, span_id, kind, payload in parts
    )
    await session.flush()


async def delete_parts(*, session: Session, ids: Iterable[uuid.UUID]) -> None:
    """Remove parts that were joined; the caller commits."""
    wanted = list(ids)
    for start in range(0, len(wanted), _CHUNK):
        await session.execute(delete(OtlpPendingRow).where(OtlpPendingRow.id.in_(wanted[start : start + _CHUNK])))


async def extend_parts(*, session: Session, ids: Iterable[uuid.UUID], expires_at: datetime) -> None:
    """Keep parts waiting until at least `expires_at` (logs that wait with a parked span); the caller commits."""
    wanted = list(ids)
    for start in range(0, len(wanted), _CHUNK):
        await session.execute(
            update(OtlpPendingRow)
            .where(OtlpPendingRow.id.in_(wanted[start : start + _CHUNK]), OtlpPendingRow.expires_at < expires_at)
            .values(expires_at=expires_at)
        )


async def any_expired(*, session: Session, now: datetime) -> bool:
    """Whether any part's wait is over."""
    found = await session.scalar(select(OtlpPendingRow.id).where(OtlpPendingRow.expires_at <= now).limit(1))
    return found is not None


async def take_expired_spans(*, session: Session, now: datetime, limit: int = 500) -> list[PendingPart]:
    """Delete and return the spans whose wait is over (each taken by one caller only); the caller commits."""
    ids = select(OtlpPendingRow.id).where(OtlpPendingRow.kind == "span", OtlpPendingRow.expires_at <= now).limit(limit)
    rows = await session.execute(
        delete(OtlpPendingRow)
        .where(OtlpPendingRow.id.in_(ids.scalar_subquery()))
        .returning(
            OtlpPendingRow.id,
            OtlpPendingRow.environment_id,
            OtlpPendingRow.trace_id,
            OtlpPendingRow.span_id,
            OtlpPendingRow.kind,
            OtlpPendingRow.payload,
        )
    )
    return [PendingPart(*row) for row in rows]


async def drop_expired_logs(*, session: Session, now: datetime) -> int:
    """Delete log parts whose span never came (or was stored before them); the caller commits."""
    result = await session.execute(
        delete(OtlpPendingRow).where(OtlpPendingRow.kind == "log", OtlpPendingRow.expires_at <= now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
