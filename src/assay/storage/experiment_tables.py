"""Scorers and offline experiments (PostHog's evaluations SDK): results computed by the user's own code and
uploaded, each experiment stored as a run of Assay's (`run_id`) in a suite named after the experiment."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assay.storage.ids import uuid7
from assay.storage.tables import ApiKeyRow, Base
from assay.storage.types import JSONType, UTCDateTime, utcnow


def _env() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)


class ScorerRow(Base):
    """A scorer definition: boolean, numeric or categorical, whose configuration lives in immutable versions."""

    __tablename__ = "scorers"
    __table_args__ = (Index("ix_scorers_env_created", "environment_id", "created_at"),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    environment_id: Mapped[uuid.UUID] = _env()
    name: Mapped[str] = mapped_column(String(400))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    tags: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by: Mapped[ApiKeyRow | None] = relationship(lazy="joined")


class ScorerVersionRow(Base):
    """One immutable configuration of a scorer; results name the version they were scored with."""

    __tablename__ = "scorer_versions"
    __table_args__ = (UniqueConstraint("scorer_id", "version", name="uq_scorer_versions_scorer_version"),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    environment_id: Mapped[uuid.UUID] = _env()
    scorer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scorers.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[ApiKeyRow | None] = relationship(lazy="joined")


class OfflineExperimentRow(Base):
    """One execution of the user's code on a set of items (the client picks its id), stored as run `run_id`."""

    __tablename__ = "offline_experiments"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    environment_id: Mapped[uuid.UUID] = _env()
    name: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(20), default="uploading")
    submission: Mapped[dict[str, Any]] = mapped_column(JSONType)
    tags: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    suite_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("suites.id", ondelete="CASCADE"))
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    expected_item_count: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    expected_result_count: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExperimentItemRow(Base):
    """An execution of one case (its input and output) in an experiment: a result row of the run."""

    __tablename__ = "offline_experiment_items"
    __table_args__ = (UniqueConstraint("experiment_id", "item_id", name="uq_offline_experiment_items_item"),)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    experiment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offline_experiments.id", ondelete="CASCADE"))
    item_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    declaration: Mapped[dict[str, Any]] = mapped_column(JSONType)
    test_case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    repetition: Mapped[int] = mapped_column(Integer)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExperimentResultRow(Base):
    """One scorer's outcome for one item of an experiment, as uploaded."""

    __tablename__ = "offline_experiment_results"
    __table_args__ = (
        UniqueConstraint("experiment_id", "item_id", "scorer_version_id", name="uq_offline_experiment_results_score"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    experiment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offline_experiments.id", ondelete="CASCADE"))
    item_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scorer_version_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    declaration: Mapped[dict[str, Any]] = mapped_column(JSONType)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
