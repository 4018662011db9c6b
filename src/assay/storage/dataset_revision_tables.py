"""Dataset revisions and item versions: every change to a dataset's items adds a revision; an item version is
valid from the revision that wrote it until the one that replaced it (`valid_to`, exclusive), so reading a
dataset at revision N is one indexed query and no item is ever copied."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assay.storage.ids import uuid7
from assay.storage.tables import ApiKeyRow, Base
from assay.storage.types import JSONType, UTCDateTime, utcnow


class DatasetRevisionRow(Base):
    """One revision of a dataset's items: numbered 1, 2, … per dataset."""

    __tablename__ = "dataset_revisions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "revision", name="uq_dataset_revisions_dataset_revision"),
        Index("ix_dataset_revisions_dataset_created", "dataset_id", "created_at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[ApiKeyRow | None] = relationship(lazy="joined")


class DatasetItemVersionRow(Base):
    """One version of an item's content, valid for the revisions `valid_from` ≤ r < `valid_to`."""

    __tablename__ = "dataset_item_versions"
    __table_args__ = (
        UniqueConstraint("item_id", "version", name="uq_dataset_item_versions_item_version"),
        Index("ix_dataset_item_versions_dataset_valid", "dataset_id", "valid_from", "valid_to"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dataset_items.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[int] = mapped_column(Integer)
    valid_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    input: Mapped[Any] = mapped_column(JSONType, nullable=True)
    output: Mapped[Any] = mapped_column(JSONType, nullable=True)
    source_output: Mapped[Any] = mapped_column(JSONType, nullable=True)
    metadata_: Mapped[Any] = mapped_column("metadata", JSONType, nullable=True)
    ref_trace_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ref_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ref_source_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[ApiKeyRow | None] = relationship(lazy="joined")
