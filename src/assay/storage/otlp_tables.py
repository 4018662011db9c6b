"""Parts of OTLP data waiting for their other half: a generation span whose messages come as log events, or
such log events whose span has not arrived yet. Joined by (environment, trace id, span id); kept until
`expires_at`, then the span is stored as it is and lone logs are dropped.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from assay.storage.ids import uuid7
from assay.storage.tables import Base
from assay.storage.types import JSONType, UTCDateTime, utcnow


class OtlpPendingRow(Base):
    """One waiting span (`kind="span"`, the raw event) or one log event's content (`kind="log"`)."""

    __tablename__ = "otlp_pending"
    __table_args__ = (
        Index("ix_otlp_pending_env_span", "environment_id", "trace_id", "span_id"),
        Index("ix_otlp_pending_expires", "expires_at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
