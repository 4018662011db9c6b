"""evaluation runs: retries with backoff (next_attempt_at, last_error), the verdict, a per-evaluation time index

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-14 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL = {
    "postgresql": "UPDATE evaluation_runs SET verdict = (result->>'verdict')::boolean "
    "WHERE status = 'completed' AND jsonb_typeof(result->'verdict') = 'boolean'",
    "sqlite": "UPDATE evaluation_runs SET verdict = json_extract(result, '$.verdict') "
    "WHERE status = 'completed' AND json_type(result, '$.verdict') IN ('true', 'false')",
}


def upgrade() -> None:
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verdict", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.create_index("ix_evaluation_runs_evaluator_created", ["evaluator_id", "created_at"], unique=False)
    backfill = _BACKFILL.get(op.get_bind().dialect.name)
    if backfill is not None:  # completed runs from before this revision count in the statistics too
        op.execute(backfill)


def downgrade() -> None:
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_evaluation_runs_evaluator_created")
        batch_op.drop_column("last_error")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("verdict")
