"""Rows of the run engine: agent instances, recipes, runs (tasks), results, and the judge cache."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assay.domain.runs import DEFAULT_PASS_THRESHOLD
from assay.domain.statuses import RunStatus
from assay.storage.ids import uuid7
from assay.storage.tables import Base
from assay.storage.types import JSONType, UTCDateTime, utcnow


class InstanceRow(Base):
    """An agent under test. Secrets live only in `encrypted_secrets`, encrypted with the server secret."""

    __tablename__ = "instances"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    encrypted_secrets: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=True)


class RecipeRow(Base):
    """A named, weighted set of evaluators with a pass threshold."""

    __tablename__ = "recipes"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    items: Mapped[list[Any]] = mapped_column(JSONType)
    pass_threshold: Mapped[float] = mapped_column(Float, default=DEFAULT_PASS_THRESHOLD)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=True)


class RunRow(Base):
    """One execution of a suite (a "task"). `snapshot` freezes instance, evaluators and cases at start."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_suite_created", "suite_id", "created_at"),
        Index("ix_runs_status", "status"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    suite_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("suites.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.QUEUED.value)
    # Deferred: it holds every case, and status polls must not decode it.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, deferred=True)
    total_cases: Mapped[int] = mapped_column(Integer, default=0)
    completed_cases: Mapped[int] = mapped_column(Integer, default=0)
    error_cases: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # One more at each write of the summary (the finish, every override or undo): with the run's id it keys
    # caches of aggregates over its results, valid across processes.
    summary_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Who started the run: the API key's id (API and web UI); empty for `assay run` and other local runs.
    started_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ResultRow(Base):
    """One scored case of a run. Unique per (run, test case, repetition): a resumed run never scores twice."""

    __tablename__ = "results"
    __table_args__ = (
        UniqueConstraint("run_id", "test_case_id", "repetition", name="uq_results_run_case_rep"),
        Index("ix_results_suite", "suite_id"),
        Index("ix_results_run_id", "run_id", "id"),
        Index("ix_results_run_measures", "run_id", "score", "status", "latency_ms"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    suite_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("suites.id", ondelete="CASCADE"))
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    test_case_id: Mapped[uuid.UUID] = mapped_column()
    repetition: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    score_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    agent_response: Mapped[str | None] = mapped_column(Text, nullable=True)
    tool_calls_made: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    tokens_used: Mapped[int | None] = mapped_column(Integer, nullable=True)
    judge_tokens: Mapped[int] = mapped_column(Integer, default=0)
    evaluator_results: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # a conversation case's turns, messages and metrics (domain/transcripts.py); NULL for a one-turn case
    transcript: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    original_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    overrides: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JudgeCacheRow(Base):
    """Judge answers by content hash, so re-runs with the same inputs cost nothing."""

    __tablename__ = "judge_cache"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
