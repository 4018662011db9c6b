"""Rows of online evaluation: one row per evaluation run, and the scheduler's cursor over the events table."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assay.domain.statuses import EvaluationRunStatus
from assay.storage.tables import Base
from assay.storage.types import JSONType, UTCDateTime, utcnow


class EvaluationRunRow(Base):
    """One evaluation of one event by one evaluator (PostHog's `run-evaluation` workflow).

    `online_key` (`"{evaluator}:{event}"`) is set only for runs the scheduler creates; being unique,
    it makes each (evaluator, event) pair run online at most once. Manual runs leave it null.

    A run that failed for a reason that may pass (a provider error, a timeout) goes back to `retrying` with
    `next_attempt_at` set and `last_error` saying why, until `attempts` reaches the bound; `error` is set only
    when the run ends. `verdict` copies the result's verdict of completed runs, for the per-evaluation counts.
    """

    __tablename__ = "evaluation_runs"
    __table_args__ = (
        Index("ix_evaluation_runs_status_created", "status", "created_at"),
        Index("ix_evaluation_runs_env_evaluator", "environment_id", "evaluator_id"),
        Index("ix_evaluation_runs_evaluator_created", "evaluator_id", "created_at"),
    )
    workflow_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    evaluator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluators.id", ondelete="CASCADE"))
    event_uuid: Mapped[uuid.UUID] = mapped_column()
    event_seq: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), default=EvaluationRunStatus.QUEUED.value)
    online_key: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    verdict: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    target_kind: Mapped[str | None] = mapped_column(String(10), nullable=True)
    """`trace` or `session` for a run over a whole trace or session (then `event_uuid` is its latest event)."""
    target_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    """The `$ai_trace_id` or `$ai_session_id` a trace or session run evaluates."""


class SchedulerCursorRow(Base):
    """How far a follower of the events table has read (`seq` of the last consumed event)."""

    __tablename__ = "scheduler_cursors"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TraceCandidateRow(Base):
    """A trace (or session) that a trace-level evaluation will run on once the trace has been idle long enough.

    The scheduler inserts the row when an event of the trace matches the evaluation's conditions and moves
    `due_at` forward with every later event of the trace, in the transaction that moves its cursor; once `due_at`
    has passed, the row becomes a queued online run (whose unique `online_key` makes it run once) and is deleted.
    Being stored, the wait survives a restart.
    """

    __tablename__ = "trace_candidates"
    __table_args__ = (Index("ix_trace_candidates_due", "due_at"),)
    evaluator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evaluators.id", ondelete="CASCADE"), primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    target_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_uuid: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
