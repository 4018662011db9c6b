"""Rows of ingested events (`$ai_generation` and any other captured event).

`seq` is a monotonically increasing integer key: the online scheduler follows the table by it
(an outbox cursor). A uuid is stored at most once per environment.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assay.storage.tables import Base
from assay.storage.types import JSONType, UTCDateTime, utcnow

# BIGSERIAL on PostgreSQL; on SQLite only `INTEGER PRIMARY KEY` is the autoincrementing rowid.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class EventRow(Base):
    """One captured event, stored as normalised at ingestion."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("environment_id", "uuid", name="uq_events_environment_uuid"),
        Index("ix_events_env_event_timestamp", "environment_id", "event", "timestamp"),
        Index("ix_events_env_timestamp", "environment_id", "timestamp"),
        Index("ix_events_env_event_seq", "environment_id", "event", "seq"),  # the events page, newest first
        Index("ix_events_env_seq", "environment_id", "seq"),  # any event of an environment, newest first
        Index("ix_events_env_distinct_seq", "environment_id", "distinct_id", "seq"),  # one person's events
        {"sqlite_autoincrement": True},  # never reuse a seq, even after deletes
    )
    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    uuid: Mapped[uuid.UUID] = mapped_column()
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(200))
    distinct_id: Mapped[str] = mapped_column(String(200))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType)
    trace_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
