"""datasets: revisions and item versions; environments: an integer project number

Every existing environment gets a project number in creation order; every dataset with items gets revision 1,
holding one version of each of its items.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 15:45:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from assay.storage.ids import uuid7

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("environments", sa.Column("project_number", sa.Integer(), nullable=True))
    op.create_index("ix_environments_project_number", "environments", ["project_number"], unique=True)
    op.add_column("datasets", sa.Column("tags", JSON, nullable=True))
    op.add_column("datasets", sa.Column("current_revision", sa.Integer(), nullable=True))
    op.add_column("dataset_items", sa.Column("source_output", JSON, nullable=True))
    op.add_column("dataset_items", sa.Column("client_item_id", sa.String(length=255), nullable=True))
    op.add_column("dataset_items", sa.Column("version", sa.Integer(), nullable=True))
    op.create_table(
        "dataset_revisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["api_keys.id"],
            name=op.f("fk_dataset_revisions_created_by_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_revisions_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_dataset_revisions_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_revisions")),
        sa.UniqueConstraint("dataset_id", "revision", name="uq_dataset_revisions_dataset_revision"),
    )
    op.create_index("ix_dataset_revisions_dataset_created", "dataset_revisions", ["dataset_id", "created_at"])
    op.create_index(op.f("ix_dataset_revisions_environment_id"), "dataset_revisions", ["environment_id"])
    op.create_table(
        "dataset_item_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_to", sa.Integer(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("input", JSON, nullable=True),
        sa.Column("output", JSON, nullable=True),
        sa.Column("source_output", JSON, nullable=True),
        sa.Column("metadata", JSON, nullable=True),
        sa.Column("ref_trace_id", sa.String(length=255), nullable=True),
        sa.Column("ref_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ref_source_id", sa.String(length=255), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["api_keys.id"],
            name=op.f("fk_dataset_item_versions_created_by_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_item_versions_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_dataset_item_versions_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["dataset_items.id"],
            name=op.f("fk_dataset_item_versions_item_id_dataset_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_item_versions")),
        sa.UniqueConstraint("item_id", "version", name="uq_dataset_item_versions_item_version"),
    )
    op.create_index(
        "ix_dataset_item_versions_dataset_valid", "dataset_item_versions", ["dataset_id", "valid_from", "valid_to"]
    )
    op.create_index(op.f("ix_dataset_item_versions_environment_id"), "dataset_item_versions", ["environment_id"])
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    environments = sa.table(
        "environments", sa.column("id", sa.Uuid()), sa.column("created_at"), sa.column("project_number")
    )
    rows = bind.execute(sa.select(environments.c.id).order_by(environments.c.created_at, environments.c.id)).all()
    for number, (environment_id,) in enumerate(rows, 1):
        bind.execute(environments.update().where(environments.c.id == environment_id).values(project_number=number))
    items = sa.table(
        "dataset_items",
        *(sa.column(name, JSON) for name in ("input", "output", "metadata")),
        sa.column("ref_trace_id", sa.String()),
        sa.column("ref_source_id", sa.String()),
        sa.column("id", sa.Uuid()),
        sa.column("environment_id", sa.Uuid()),
        sa.column("dataset_id", sa.Uuid()),
        sa.column("ref_timestamp", sa.DateTime(timezone=True)),
        sa.column("deleted", sa.Boolean()),
        sa.column("created_by_id", sa.Uuid()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("version", sa.Integer()),
    )
    datasets = sa.table("datasets", sa.column("id", sa.Uuid()), sa.column("current_revision", sa.Integer()))
    revisions = sa.table(
        "dataset_revisions",
        sa.column("id", sa.Uuid()),
        sa.column("environment_id", sa.Uuid()),
        sa.column("dataset_id", sa.Uuid()),
        sa.column("revision", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    versions = sa.table(
        "dataset_item_versions",
        *(sa.column(name, JSON) for name in ("input", "output", "metadata")),
        sa.column("ref_trace_id", sa.String()),
        sa.column("ref_source_id", sa.String()),
        sa.column("ref_timestamp", sa.DateTime(timezone=True)),
        sa.column("id", sa.Uuid()),
        sa.column("environment_id", sa.Uuid()),
        sa.column("dataset_id", sa.Uuid()),
        sa.column("item_id", sa.Uuid()),
        sa.column("version", sa.Integer()),
        sa.column("valid_from", sa.Integer()),
        sa.column("archived", sa.Boolean()),
        sa.column("created_by_id", sa.Uuid()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    seen: set[object] = set()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    for item in bind.execute(sa.select(items).order_by(items.c.created_at, items.c.id)).mappings().all():
        if item["dataset_id"] not in seen:
            seen.add(item["dataset_id"])
            bind.execute(
                revisions.insert().values(
                    id=uuid7(),
                    environment_id=item["environment_id"],
                    dataset_id=item["dataset_id"],
                    revision=1,
                    created_at=now,
                )
            )
            bind.execute(datasets.update().where(datasets.c.id == item["dataset_id"]).values(current_revision=1))
        bind.execute(
            versions.insert().values(
                id=uuid7(),
                environment_id=item["environment_id"],
                dataset_id=item["dataset_id"],
                item_id=item["id"],
                version=1,
                valid_from=1,
                archived=bool(item["deleted"]),
                input=item["input"],
                output=item["output"],
                metadata=item["metadata"],
                ref_trace_id=item["ref_trace_id"],
                ref_source_id=item["ref_source_id"],
                ref_timestamp=item["ref_timestamp"],
                created_by_id=item["created_by_id"],
                created_at=item["created_at"],
            )
        )
        bind.execute(items.update().where(items.c.id == item["id"]).values(version=1))


def downgrade() -> None:
    op.drop_index(op.f("ix_dataset_item_versions_environment_id"), table_name="dataset_item_versions")
    op.drop_index("ix_dataset_item_versions_dataset_valid", table_name="dataset_item_versions")
    op.drop_table("dataset_item_versions")
    op.drop_index(op.f("ix_dataset_revisions_environment_id"), table_name="dataset_revisions")
    op.drop_index("ix_dataset_revisions_dataset_created", table_name="dataset_revisions")
    op.drop_table("dataset_revisions")
    with op.batch_alter_table("dataset_items") as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("client_item_id")
        batch_op.drop_column("source_output")
    with op.batch_alter_table("datasets") as batch_op:
        batch_op.drop_column("current_revision")
        batch_op.drop_column("tags")
    op.drop_index("ix_environments_project_number", table_name="environments")
    with op.batch_alter_table("environments") as batch_op:
        batch_op.drop_column("project_number")
