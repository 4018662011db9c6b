"""Rows of the distributed dispatch (PostgreSQL): a run's chunks, the cluster's rate budgets, the worker processes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from assay.storage.tables import Base
from assay.storage.types import UTCDateTime, utcnow


class RunChunkRow(Base):
    """One slice `[start, stop)` of a run's (case, repetition) pairs, executed by one queue job.

    `finished_at` is set once when the chunk ends; the chunk that sets the last one finishes the run.
    """

    __tablename__ = "run_chunks"
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[int] = mapped_column(Integer)
    stop: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RateBudgetRow(Base):
    """A token bucket shared by every process: `tokens` left at `updated_at`, refilled at `rate` per second.

    `name` is `rpm:<key hash>` or `tpm:<key hash>` (a SHA-256 of provider, base URL and key: never the key).
    """

    __tablename__ = "rate_budgets"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    rate: Mapped[float] = mapped_column(Float)
    capacity: Mapped[float] = mapped_column(Float)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    label: Mapped[str] = mapped_column(String(300), default="")
    """What the bucket limits, shown by `assay worker status` (provider, base URL, model; no secret)."""


class WorkerProcessRow(Base):
    """An `assay worker` process as it last reported itself (every few seconds)."""

    __tablename__ = "worker_processes"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    queue_worker_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The queue's own id of this worker (its heartbeat row)."""
    concurrency: Mapped[int] = mapped_column(Integer)
    jobs: Mapped[int] = mapped_column(Integer, default=0)
    in_flight: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
