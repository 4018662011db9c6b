"""scorers and offline experiments: uploaded results of the user's own code, each experiment stored as a run

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "scorers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["api_keys.id"], name=op.f("fk_scorers_created_by_id_api_keys"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_scorers_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorers")),
    )
    op.create_index("ix_scorers_env_created", "scorers", ["environment_id", "created_at"], unique=False)
    op.create_index(op.f("ix_scorers_environment_id"), "scorers", ["environment_id"], unique=False)
    op.create_table(
        "offline_experiments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submission", JSON, nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("suite_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("expected_item_count", sa.BigInteger(), nullable=True),
        sa.Column("expected_result_count", sa.BigInteger(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_offline_experiments_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_offline_experiments_run_id_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["suite_id"], ["suites.id"], name=op.f("fk_offline_experiments_suite_id_suites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_experiments")),
    )
    op.create_index(
        op.f("ix_offline_experiments_environment_id"), "offline_experiments", ["environment_id"], unique=False
    )
    op.create_table(
        "scorer_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("scorer_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("config", JSON, nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["api_keys.id"],
            name=op.f("fk_scorer_versions_created_by_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_scorer_versions_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scorer_id"], ["scorers.id"], name=op.f("fk_scorer_versions_scorer_id_scorers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorer_versions")),
        sa.UniqueConstraint("scorer_id", "version", name="uq_scorer_versions_scorer_version"),
    )
    op.create_index(op.f("ix_scorer_versions_environment_id"), "scorer_versions", ["environment_id"], unique=False)
    op.create_table(
        "offline_experiment_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("experiment_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("declaration", JSON, nullable=False),
        sa.Column("test_case_id", sa.Uuid(), nullable=False),
        sa.Column("repetition", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["offline_experiments.id"],
            name=op.f("fk_offline_experiment_items_experiment_id_offline_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_experiment_items")),
        sa.UniqueConstraint("experiment_id", "item_id", name="uq_offline_experiment_items_item"),
    )
    op.create_table(
        "offline_experiment_results",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("experiment_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("scorer_version_id", sa.Uuid(), nullable=False),
        sa.Column("declaration", JSON, nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["offline_experiments.id"],
            name=op.f("fk_offline_experiment_results_experiment_id_offline_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_experiment_results")),
        sa.UniqueConstraint(
            "experiment_id", "item_id", "scorer_version_id", name="uq_offline_experiment_results_score"
        ),
    )


def downgrade() -> None:
    op.drop_table("offline_experiment_results")
    op.drop_table("offline_experiment_items")
    op.drop_index(op.f("ix_scorer_versions_environment_id"), table_name="scorer_versions")
    op.drop_table("scorer_versions")
    op.drop_index(op.f("ix_offline_experiments_environment_id"), table_name="offline_experiments")
    op.drop_table("offline_experiments")
    op.drop_index(op.f("ix_scorers_environment_id"), table_name="scorers")
    op.drop_index("ix_scorers_env_created", table_name="scorers")
    op.drop_table("scorers")
