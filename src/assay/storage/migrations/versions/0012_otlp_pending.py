"""otlp_pending: OTLP spans and log events waiting to be joined

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 16:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "otlp_pending",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column(
            "payload",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_otlp_pending_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_otlp_pending")),
    )
    with op.batch_alter_table("otlp_pending", schema=None) as batch_op:
        batch_op.create_index("ix_otlp_pending_env_span", ["environment_id", "trace_id", "span_id"], unique=False)
        batch_op.create_index("ix_otlp_pending_expires", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("otlp_pending", schema=None) as batch_op:
        batch_op.drop_index("ix_otlp_pending_expires")
        batch_op.drop_index("ix_otlp_pending_env_span")
    op.drop_table("otlp_pending")
