"""Storing online evaluation: the scheduler cursor, evaluation runs (queue, leases, outcomes)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.events import NormalizedEvent
from assay.domain.statuses import EvaluationRunStatus
from assay.storage.event_tables import EventRow
from assay.storage.events import insert_events
from assay.storage.leases import claim_statement, claimable
from assay.storage.online_tables import EvaluationRunRow, SchedulerCursorRow
from assay.storage.tables import EvaluatorRow
from assay.storage.types import utcnow

HORIZON_LOCK_TIMEOUT = "2s"


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert


# --- cursor -------------------------------------------------------------------------------------------------------------


async def read_cursor(*, session: AsyncSession, name: str) -> int:
    """The cursor's last consumed `seq` (0 when new)."""
    value = await session.scalar(select(SchedulerCursorRow.last_seq).where(SchedulerCursorRow.name == name))
    return int(value or 0)


async def ensure_cursor(*, session: AsyncSession, name: str) -> None:
    """Create the cursor at 0 unless it exists; commits."""
    await session.execute(
        _insert(session)(SchedulerCursorRow)
        .values(name=name, last_seq=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["name"])
    )
    await session.commit()


async def advance_cursor(*, session: AsyncSession, name: str, expected: int, last_seq: int) -> bool:
    """Compare-and-set the cursor from `expected` to `last_seq`, as the transaction's first write.

    False when another follower moved it first: the caller rolls back (its work was done by the other).
    The caller commits, together with whatever the consumed events produced.
    """
    result = await session.execute(
        update(SchedulerCursorRow)
        .where(SchedulerCursorRow.name == name, SchedulerCursorRow.last_seq == expected)
        .values(last_seq=last_seq, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


NO_HORIZON = 2**63 - 1
"""The horizon on SQLite: every visible `seq` is final there, so nothing needs bounding."""


async def committed_horizon(*, session: AsyncSession) -> int:
    """The highest `seq` below which no event can still appear; commits the session.

    SQLite has one writer at a time, so every visible `seq` is final: `NO_HORIZON`, without a query.
    On PostgreSQL a `seq` is drawn at INSERT time and may commit after a larger one: a brief SHARE lock
    on `events` waits for the inserts in flight (it conflicts with their ROW EXCLUSIVE lock), so after it
    every `seq` up to `max(seq)` is committed or rolled back, and later inserts draw larger values. When
    the lock cannot be had within `HORIZON_LOCK_TIMEOUT`, the horizon is 0 (nothing is consumed this time).
    """
    if _dialect(session) != "postgresql":
        return NO_HORIZON
    try:
        await session.execute(text(f"SET LOCAL lock_timeout = '{HORIZON_LOCK_TIMEOUT}'"))
        await session.execute(text("LOCK TABLE events IN SHARE MODE"))
        value = await session.scalar(select(func.max(EventRow.seq)))
        await session.commit()
    except Exception:
        await session.rollback()
        raise
    return int(value or 0)


@dataclass(frozen=True, slots=True)
class EventHead:
    """The light columns of an event: enough to route it and to decide sampling."""

    seq: int
    environment_id: uuid.UUID
    event: str
    uuid: uuid.UUID
    distinct_id: str
    trace_id: str | None = None
    created_at: datetime | None = None
    """When the event was stored (the server's clock: a trace's idle time is measured on it)."""


async def event_heads(*, session: AsyncSession, after: int, upto: int, limit: int) -> list[EventHead]:
    """The light columns of events with `after < seq <= upto`, in `seq` order, at most `limit`."""
    rows = await session.execute(
        select(
            EventRow.seq,
            EventRow.environment_id,
            EventRow.event,
            EventRow.uuid,
            EventRow.distinct_id,
            EventRow.trace_id,
            EventRow.created_at,
        )
        .where(EventRow.seq > after, EventRow.seq <= upto)
        .order_by(EventRow.seq)
        .limit(limit)
    )
    return [EventHead(int(s), e, n, u, d, t, c) for s, e, n, u, d, t, c in rows]


async def event_properties(*, session: AsyncSession, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The properties of the events with these `seq`s."""
    if not seqs:
        return {}
    rows = await session.execute(select(EventRow.seq, EventRow.properties).where(EventRow.seq.in_(list(seqs))))
    return {int(s): p for s, p in rows}


# --- evaluators ---------------------------------------------------------------------------------------------------------


async def evaluator_versions(*, session: AsyncSession) -> dict[uuid.UUID, tuple[int, datetime | None]]:
    """Per environment, (count, latest `updated_at`) of its evaluators: any change to one changes this."""
    rows = await session.execute(
        select(EvaluatorRow.environment_id, func.count(), func.max(EvaluatorRow.updated_at)).group_by(
            EvaluatorRow.environment_id
        )
    )
    return {env: (int(count), latest) for env, count, latest in rows}


async def active_evaluators(*, session: AsyncSession, environment_ids: Sequence[uuid.UUID]) -> list[EvaluatorRow]:
    """Enabled, non-deleted evaluators of these environments."""
    if not environment_ids:
        return []
    rows = await session.scalars(
        select(EvaluatorRow).where(
            EvaluatorRow.environment_id.in_(list(environment_ids)),
            EvaluatorRow.enabled.is_(True),
            EvaluatorRow.deleted.is_(False),
        )
    )
    return list(rows)


async def evaluators_by_id(*, session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, EvaluatorRow]:
    """Evaluators by id, whatever their enabled/deleted state (queued runs still run, as the original)."""
    if not ids:
        return {}
    rows = await session.scalars(select(EvaluatorRow).where(EvaluatorRow.id.in_(list(set(ids)))))
    return {r.id: r for r in rows}


# --- runs ---------------------------------------------------------------------------------------------------------------


def online_workflow_id(evaluator_id: uuid.UUID | str, event_uuid: uuid.UUID | str) -> str:
    """PostHog's workflow id for an online run."""
    return f"{evaluator_id}-{event_uuid}-ingestion"


async def queue_online_runs(
    *, session: AsyncSession, pairs: Sequence[tuple[uuid.UUID, uuid.UUID, uuid.UUID, int]]
) -> int:
    """Queue online runs for `(environment, evaluator, event uuid, event seq)`; pairs already queued are ignored."""
    if not pairs:
        return 0
    now = utcnow()
    rows = [
        {
            "workflow_id": online_workflow_id(evaluator, event),
            "environment_id": env,
            "evaluator_id": evaluator,
            "event_uuid": event,
            "event_seq": seq,
            "source": "online",
            "status": EvaluationRunStatus.QUEUED.value,
            "online_key": f"{evaluator}:{event}",
            "attempts": 0,
            "created_at": now,
        }
        for env, evaluator, event, seq in pairs
    ]
    stmt = (
        _insert(session)(EvaluationRunRow.__table__)
        .on_conflict_do_nothing()
        .returning(EvaluationRunRow.__table__.c.workflow_id)
    )  # one cached statement for every batch (executed with many parameter sets)
    inserted = 0
    for start in range(0, len(rows), 500):
        result = await session.execute(stmt, rows[start : start + 500])
        inserted += len(result.all())
    return inserted


async def create_manual_run(
    *,
    session: AsyncSession,
    workflow_id: str,
    environment_id: uuid.UUID,
    evaluator_id: uuid.UUID,
    event: EventRow,
    target_kind: str | None = None,
    target_key: str | None = None,
) -> EvaluationRunRow:
    """Queue a manual run (no unique pair key: a manual run may repeat); a trace or session run names its target."""
    row = EvaluationRunRow(
        target_kind=target_kind,
        target_key=target_key,
        workflow_id=workflow_id,
        environment_id=environment_id,
        evaluator_id=evaluator_id,
        event_uuid=event.uuid,
        event_seq=event.seq,
        source="manual",
        status=EvaluationRunStatus.QUEUED,
        attempts=0,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row


async def get_run(*, session: AsyncSession, environment_id: uuid.UUID, workflow_id: str) -> EvaluationRunRow | None:
    row = await session.get(EvaluationRunRow, workflow_id)
    return row if row is not None and row.environment_id == environment_id else None


def _claimable(now: datetime) -> ColumnElement[bool]:
    due_retry = and_(EvaluationRunRow.status == EvaluationRunStatus.RETRYING, EvaluationRunRow.next_attempt_at <= now)
    return claimable(EvaluationRunRow, now, due_retry)


@dataclass(frozen=True, slots=True)
class ClaimedRun:
    """A run this worker now holds."""

    workflow_id: str
    environment_id: uuid.UUID
    evaluator_id: uuid.UUID
    event_uuid: uuid.UUID
    event_seq: int
    attempts: int
    started_at: datetime
    target_kind: str | None = None
    target_key: str | None = None


async def claim_runs(*, session: AsyncSession, worker_id: str, lease: timedelta, limit: int) -> list[ClaimedRun]:
    """Take up to `limit` queued runs, retries that are due, or running ones whose lease lapsed. Commits.

    The conditional UPDATE is the claim: a run another worker took in between is not returned.
    """
    if limit <= 0:
        return []
    now = utcnow()
    candidates = list(
        await session.scalars(
            select(EvaluationRunRow.workflow_id)
            .where(_claimable(now))
            .order_by(EvaluationRunRow.created_at)
            .limit(limit)
        )
    )
    await session.commit()  # the UPDATE starts a fresh (write) transaction: no stale SQLite read snapshot
    if not candidates:
        return []
    run = EvaluationRunRow
    claim = claim_statement(
        run,
        which=run.workflow_id.in_(candidates),
        condition=_claimable(now),
        worker_id=worker_id,
        now=now,
        lease=lease,
        started_at=now,
        next_attempt_at=None,
    )
    result = await session.execute(
        claim.returning(
            run.workflow_id,
            run.environment_id,
            run.evaluator_id,
            run.event_uuid,
            run.event_seq,
            run.attempts,
            run.target_kind,
            run.target_key,
        ).execution_options(synchronize_session=False)
    )
    claimed = [ClaimedRun(w, e, ev, u, int(s), int(a), now, k, t) for w, e, ev, u, s, a, k, t in result]
    await session.commit()
    return claimed


async def events_by_seqs(*, session: AsyncSession, seqs: Sequence[int]) -> dict[int, EventRow]:
    if not seqs:
        return {}
    rows = await session.scalars(select(EventRow).where(EventRow.seq.in_(list(set(seqs)))))
    return {r.seq: r for r in rows}


@dataclass(slots=True)
class EvaluationRunOutcome:
    """How an attempt ended, and the `$ai_evaluation` event to store with it (completed runs only).

    `cause` names the kind of failure or skip (`hog_error`, `server_error`, `parse_error` …) for logs and
    counts; `retryable` says whether trying again may help. The scheduler turns a retryable failure into
    `status="retrying"` with `next_attempt_at` while attempts remain.
    """

    workflow_id: str
    environment_id: uuid.UUID
    status: EvaluationRunStatus
    result: dict[str, Any] | None = None
    error: str | None = None
    event: NormalizedEvent | None = None
    cause: str | None = None
    retryable: bool = False
    next_attempt_at: datetime | None = None


def _outcome_values(o: EvaluationRunOutcome, now: datetime) -> dict[str, Any]:
    """The columns an outcome sets; each shape has its own key set (one executemany per shape)."""
    if o.status == EvaluationRunStatus.RETRYING:
        return {
            "workflow_id": o.workflow_id,
            "status": o.status,
            "last_error": o.error,
            "next_attempt_at": o.next_attempt_at,
            "lease_until": None,
            "worker_id": None,
        }
    values = {
        "workflow_id": o.workflow_id,
        "status": o.status,
        "result": o.result,
        "error": o.error,
        "finished_at": now,
        "lease_until": None,
        "next_attempt_at": None,
    }
    if o.status == EvaluationRunStatus.COMPLETED:
        verdict = (o.result or {}).get("verdict")
        values["verdict"] = verdict if isinstance(verdict, bool) else None
    else:
        values["last_error"] = o.error
    return values


async def finish_runs(*, session: AsyncSession, worker_id: str, outcomes: Sequence[EvaluationRunOutcome]) -> list[str]:
    """Record outcomes of runs this worker still holds, with their events, in one transaction. Commits.

    A `retrying` outcome puts the run back in the queue for `next_attempt_at`. A run taken over by another worker (its lease lapsed) is left alone, so it yields one event at most.
    Returns the workflow ids recorded.
    """
    if not outcomes:
        return []
    ids = [o.workflow_id for o in outcomes]
    owned_rows = await session.execute(
        update(EvaluationRunRow)
        .where(
            EvaluationRunRow.workflow_id.in_(ids),
            EvaluationRunRow.worker_id == worker_id,
            EvaluationRunRow.status == EvaluationRunStatus.RUNNING,
        )
        .values(status=EvaluationRunStatus.FINISHING)
        .returning(EvaluationRunRow.workflow_id)
        .execution_options(synchronize_session=False)
    )
    owned = {w for (w,) in owned_rows}
    mine = [o for o in outcomes if o.workflow_id in owned]
    now = utcnow()
    by_env: dict[uuid.UUID, list[NormalizedEvent]] = {}
    for o in mine:
        if o.event is not None:
            by_env.setdefault(o.environment_id, []).append(o.event)
    for env, events in by_env.items():
        await insert_events(session=session, environment_id=env, events=events)
    shapes: dict[frozenset[str], list[dict[str, Any]]] = {}
    for o in mine:
        values = _outcome_values(o, now)
        shapes.setdefault(frozenset(values), []).append(values)
    for rows in shapes.values():
        await session.execute(update(EvaluationRunRow), rows)
    await session.commit()
    return [o.workflow_id for o in mine]
