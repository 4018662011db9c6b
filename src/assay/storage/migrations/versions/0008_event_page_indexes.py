"""events: an index for the events page (one event name of an environment, newest `seq` first; the live tail)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_env_event_seq", "events", ["environment_id", "event", "seq"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_events_env_event_seq", table_name="events")
