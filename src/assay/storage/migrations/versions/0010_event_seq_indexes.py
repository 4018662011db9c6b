"""events: indexes on (environment, seq) and (environment, distinct id, seq) for the events page and its filters

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_env_seq", "events", ["environment_id", "seq"], unique=False)
    op.create_index("ix_events_env_distinct_seq", "events", ["environment_id", "distinct_id", "seq"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_events_env_distinct_seq", table_name="events")
    op.drop_index("ix_events_env_seq", table_name="events")
