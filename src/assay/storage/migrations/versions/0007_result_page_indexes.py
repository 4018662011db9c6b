"""results: indexes for the run page (keyset pages and exports in id order; score, status and latency aggregates read from the index alone)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 13:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.create_index("ix_results_run_id", ["run_id", "id"], unique=False)
        batch_op.create_index("ix_results_run_measures", ["run_id", "score", "status", "latency_ms"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_index("ix_results_run_measures")
        batch_op.drop_index("ix_results_run_id")
