"""trace-level online evaluation: an evaluation's target and idle time, trace runs, traces waiting to go idle

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evaluators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target", sa.String(length=20), server_default="$ai_generation", nullable=False))
        batch_op.add_column(sa.Column("idle_seconds", sa.Float(), nullable=True))
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_kind", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("target_key", sa.String(length=255), nullable=True))
    op.create_table(
        "trace_candidates",
        sa.Column("evaluator_id", sa.Uuid(), nullable=False),
        sa.Column("target_kind", sa.String(length=10), nullable=False),
        sa.Column("target_key", sa.String(length=255), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_trace_candidates_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["evaluator_id"],
            ["evaluators.id"],
            name=op.f("fk_trace_candidates_evaluator_id_evaluators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("evaluator_id", "target_kind", "target_key", name=op.f("pk_trace_candidates")),
    )
    op.create_index("ix_trace_candidates_due", "trace_candidates", ["due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_trace_candidates_due", table_name="trace_candidates")
    op.drop_table("trace_candidates")
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.drop_column("target_key")
        batch_op.drop_column("target_kind")
    with op.batch_alter_table("evaluators", schema=None) as batch_op:
        batch_op.drop_column("idle_seconds")
        batch_op.drop_column("target")
