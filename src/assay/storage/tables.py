"""ORM rows. Every row belongs to one environment (people, `UserRow`, belong to environments through their
roles); class names end in `Row`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, MetaData, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from assay.storage.ids import uuid7
from assay.storage.types import JSONType, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSONType, list[Any]: JSONType, datetime: UTCDateTime, uuid.UUID: Uuid}


def _id() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid7)


def _env_fk() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)


def _created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow)


def _updated() -> Mapped[datetime | None]:
    return mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=True)


class EnvironmentRow(Base):
    """The isolation unit (PostHog's environment/project, HydraCore's tenant)."""

    __tablename__ = "environments"
    id: Mapped[uuid.UUID] = _id()
    name: Mapped[str] = mapped_column(String(200), unique=True)
    project_token: Mapped[str] = mapped_column(String(64), unique=True)
    # The integer alias PostHog's SDKs address a project by (`/api/projects/{n}/`); given once, never reused.
    project_number: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True, index=True)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime | None] = _updated()


class UserRow(Base):
    """A person who signs in to the web UI: email (stored lower-case) and an argon2 password hash."""

    __tablename__ = "users"
    id: Mapped[uuid.UUID] = _id()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime | None] = _updated()


class ApiKeyRow(Base):
    """A personal API key. Only the SHA-256 of the key is stored; `owner_user_id` is the person who created it
    in the web UI (None for keys made by the CLI or by another key)."""

    __tablename__ = "api_keys"
    id: Mapped[uuid.UUID] = _id()
    environment_id: Mapped[uuid.UUID] = _env_fk()
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = _created()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )


class DatasetRow(Base):
    __tablename__ = "datasets"
    __table_args__ = (Index("ix_datasets_env_created", "environment_id", "created_at", "id"),)
    id: Mapped[uuid.UUID] = _id()
    environment_id: Mapped[uuid.UUID] = _env_fk()
    name: Mapped[str] = mapped_column(String(400))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    metadata_: Mapped[Any] = mapped_column("metadata", JSONType, nullable=True)
    tags: Mapped[list[Any] | None] = mapped_column(JSONType, nullable=True)
    # The latest revision of the items (None until the first item); every item change adds one.
    current_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deleted: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime | None] = _updated()
    created_by: Mapped[ApiKeyRow | None] = relationship(lazy="joined")


class DatasetItemRow(Base):
    __tablename__ = "dataset_items"
    __table_args__ = (Index("ix_dataset_items_env_dataset_created", "environment_id", "dataset_id", "created_at"),)
    id: Mapped[uuid.UUID] = _id()
    environment_id: Mapped[uuid.UUID] = _env_fk()
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    input: Mapped[Any] = mapped_column(JSONType, nullable=True)
    output: Mapped[Any] = mapped_column(JSONType, nullable=True)
    metadata_: Mapped[Any] = mapped_column("metadata", JSONType, nullable=True)
    ref_trace_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ref_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ref_source_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    source_output: Mapped[Any] = mapped_column(JSONType, nullable=True)
    client_item_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The item's current version (`dataset_item_versions.version`).
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deleted: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime | None] = _updated()
    created_by: Mapped[ApiKeyRow | None] = relationship(lazy="joined")


class ProviderKeyRow(Base):
    """An LLM provider API key of an environment; the secret is encrypted with the server's secret key."""

    __tablename__ = "llm_provider_keys"
    id: Mapped[uuid.UUID] = _id()
    environment_id: Mapped[uuid.UUID] = _env_fk()
    provider: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="unknown")
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    encrypted_config: Mapped[str] = mapped_column(Text)
    base_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tokens_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime | None] = _updated()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ModelConfigurationRow(Base):
    """Which provider and model an evaluator's judge uses, optionally with a provider key."""

    __tablename__ = "model_configurations"
    id: Mapped[uuid.UUID] = _id()
    environment_id: Mapped[uuid.UUID] = _env_fk()
    provider: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(100))
    provider_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("llm_provider_keys.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = _created()
    provider_key: Mapped[ProviderKeyRow | None] = relationship(lazy="joined")


class EvaluatorRow(Base):
    """An evaluator definition (the LLM-analytics "evaluation")."""

    __tablename__ = "evaluators"
    __table_args__ = (
        Index("ix_evaluators_env_created", "environment_id", "created_at", "id"),
        Index("ix_evaluators_env_enabled", "environment_id", "enabled"),
    )
    id: Mapped[uuid.UUID] = _id()
    environment_id: Mapped[uuid.UUID] = _env_fk()
    name: Mapped[str] = mapped_column(String(400))
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    evaluation_type: Mapped[str] = mapped_column(String(50))
    evaluation_config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    output_type: Mapped[str] = mapped_column(String(50))
    output_config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    conditions: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    target: Mapped[str] = mapped_column(String(20), default="$ai_generation", server_default="$ai_generation")
    """What an online run evaluates: one `$ai_generation`, a whole `$ai_trace` or a whole `$ai_session`."""
    idle_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    """For trace and session targets: how long the trace must be quiet before it is evaluated (null: the default)."""
    model_configuration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("model_configurations.id", ondelete="SET NULL"), nullable=True
    )
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime | None] = _updated()
    created_by: Mapped[ApiKeyRow | None] = relationship(lazy="joined")
    model_configuration: Mapped[ModelConfigurationRow | None] = relationship(lazy="joined")


class SuiteRow(Base):
    """A suite of test cases run against an agent instance (the agent-evaluations "evaluation")."""

    __tablename__ = "suites"
    __table_args__ = (Index("ix_suites_env_created", "environment_id", "created_at"),)
    id: Mapped[uuid.UUID] = _id()
    environment_id: Mapped[uuid.UUID] = _env_fk()
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    instance_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    recipe_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    results_summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime | None] = _updated()


class TestCaseRow(Base):
    __test__ = False  # not a pytest test class
    __tablename__ = "test_cases"
    __table_args__ = (Index("ix_test_cases_suite_order", "suite_id", "sort_order", "id"),)
    id: Mapped[uuid.UUID] = _id()
    environment_id: Mapped[uuid.UUID] = _env_fk()
    suite_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("suites.id", ondelete="CASCADE"))
    input_message: Mapped[str] = mapped_column(Text)
    expected_behavior: Mapped[str | None] = mapped_column(Text, nullable=True)
    expected_tool_calls: Mapped[Any] = mapped_column(JSONType, nullable=True)
    tags: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    # messages, user_turns, simulated_user, tool_mocks, max_steps (domain/conversations.py); NULL: one turn
    conversation: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = _created()
