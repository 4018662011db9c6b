"""Storing trace-level online evaluation: traces waiting to go idle, their queued runs, and a trace's events."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, bindparam, delete, select, tuple_, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.statuses import EvaluationRunStatus
from assay.domain.trace_subject import KIND_TARGETS, MAX_TRACE_EVENTS, TRACE_EVENTS
from assay.storage.event_tables import EventRow
from assay.storage.online_tables import EvaluationRunRow, TraceCandidateRow
from assay.storage.tables import EvaluatorRow
from assay.storage.types import utcnow


@dataclass(frozen=True, slots=True)
class CandidateMark:
    """The latest event of a trace in one consumed batch, for one trace-level evaluation of its environment.

    `matched`: an event of the batch met the evaluation's conditions, so the trace becomes a candidate if it is
    not one yet; otherwise the mark only moves an existing candidate's `due_at` (the trace is still active).
    """

    evaluator_id: uuid.UUID
    environment_id: uuid.UUID
    kind: str
    key: str
    due_at: datetime
    last_seq: int
    last_uuid: uuid.UUID
    matched: bool


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def mark_candidates(*, session: AsyncSession, marks: Sequence[CandidateMark]) -> None:
    """Insert matched candidates and move every candidate's `due_at` to its trace's latest event (never back)."""
    table = cast(Table, TraceCandidateRow.__table__)
    now = utcnow()
    matched = [
        {
            "evaluator_id": m.evaluator_id,
            "target_kind": m.kind,
            "target_key": m.key,
            "environment_id": m.environment_id,
            "due_at": m.due_at,
            "last_seq": m.last_seq,
            "last_uuid": m.last_uuid,
            "created_at": now,
        }
        for m in marks
        if m.matched
    ]
    if matched:
        stmt = _insert(session)(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["evaluator_id", "target_kind", "target_key"],
            set_={
                "due_at": stmt.excluded.due_at,
                "last_seq": stmt.excluded.last_seq,
                "last_uuid": stmt.excluded.last_uuid,
            },
            where=table.c.last_seq < stmt.excluded.last_seq,
        )
        await session.execute(stmt, matched)
    bumps = [
        {"e": m.evaluator_id, "k": m.kind, "t": m.key, "due": m.due_at, "seq": m.last_seq, "uid": m.last_uuid}
        for m in marks
        if not m.matched
    ]
    if bumps:
        await session.execute(
            update(table)
            .where(
                table.c.evaluator_id == bindparam("e"),
                table.c.target_kind == bindparam("k"),
                table.c.target_key == bindparam("t"),
                table.c.last_seq < bindparam("seq"),
            )
            .values(due_at=bindparam("due"), last_seq=bindparam("seq"), last_uuid=bindparam("uid")),
            bumps,
        )


def trace_run_ids(evaluator_id: uuid.UUID | str, kind: str, key: str) -> tuple[str, str]:
    """The workflow id and the unique online key of the one online run of an evaluation over a trace or session."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{evaluator_id}-{kind}-{digest}-ingestion", f"{evaluator_id}:{kind}:{digest}"


async def any_due(*, session: AsyncSession, now: datetime) -> bool:
    """Whether any candidate's `due_at` has passed (one indexed read, without taking the write turn)."""
    found = await session.scalar(select(TraceCandidateRow.due_at).where(TraceCandidateRow.due_at <= now).limit(1))
    return found is not None


async def queue_due_candidates(*, session: AsyncSession, now: datetime, limit: int) -> tuple[int, int]:
    """Turn candidates whose `due_at` has passed into queued online runs and delete them; the caller commits.

    Candidates of evaluations since disabled, deleted or given another target are dropped without a run. A trace already evaluated
    online is not queued again (the run's unique `online_key`). Returns (candidates taken, runs queued).
    """
    t = TraceCandidateRow
    keys = list(
        await session.execute(
            select(t.evaluator_id, t.target_kind, t.target_key).where(t.due_at <= now).order_by(t.due_at).limit(limit)
        )
    )
    if not keys:
        return 0, 0
    taken = list(
        await session.execute(
            delete(t)
            .where(tuple_(t.evaluator_id, t.target_kind, t.target_key).in_([tuple(k) for k in keys]), t.due_at <= now)
            .returning(t.evaluator_id, t.environment_id, t.target_kind, t.target_key, t.last_seq, t.last_uuid)
            .execution_options(synchronize_session=False)
        )
    )
    found = await session.execute(
        select(EvaluatorRow.id, EvaluatorRow.target).where(
            EvaluatorRow.id.in_({row[0] for row in taken}),
            EvaluatorRow.enabled.is_(True),
            EvaluatorRow.deleted.is_(False),
        )
    )
    targets = {row[0]: row[1] for row in found.all()}
    rows = []
    for evaluator_id, env, kind, key, seq, event_uuid in taken:
        if targets.get(evaluator_id) != KIND_TARGETS.get(kind):  # disabled, deleted or retargeted since
            continue
        workflow_id, online_key = trace_run_ids(evaluator_id, kind, key)
        rows.append(
            {
                "workflow_id": workflow_id,
                "environment_id": env,
                "evaluator_id": evaluator_id,
                "event_uuid": event_uuid,
                "event_seq": seq,
                "source": "online",
                "status": EvaluationRunStatus.QUEUED.value,
                "online_key": online_key,
                "attempts": 0,
                "created_at": now,
                "target_kind": kind,
                "target_key": key,
            }
        )
    if not rows:
        return len(taken), 0
    result = await session.execute(
        _insert(session)(EvaluationRunRow.__table__)
        .on_conflict_do_nothing()
        .returning(EvaluationRunRow.__table__.c.workflow_id),
        rows,
    )
    return len(taken), len(result.all())


def _session_id() -> ColumnElement[str]:
    return sql_cast(EventRow.properties["$ai_session_id"].as_string(), String)


async def trace_events(*, session: AsyncSession, environment_id: uuid.UUID, kind: str, key: str) -> list[EventRow]:
    """The events that make up a trace (by `$ai_trace_id`) or a session (by `$ai_session_id`), the latest
    `MAX_TRACE_EVENTS` of them, oldest first."""
    match = EventRow.trace_id == key if kind == "trace" else _session_id() == key
    rows = await session.scalars(
        select(EventRow)
        .where(EventRow.environment_id == environment_id, EventRow.event.in_(TRACE_EVENTS), match)
        .order_by(EventRow.seq.desc())
        .limit(MAX_TRACE_EVENTS)
    )
    return list(reversed(list(rows)))
