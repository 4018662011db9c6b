"""Claiming work with a database lease: the one conditional UPDATE that runs and evaluation runs share.

A row is claimable when it is `queued`, or `running` with a lapsed lease (its worker died), or meets a
table's own extra condition (an evaluation run's due retry). Claiming sets `status="running"`, the
worker, the lease's end, and counts the attempt, in one statement guarded by the same condition, so a
row another worker took in between is not updated (and not counted as claimed).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Update, and_, or_, update

from assay.storage.online_tables import EvaluationRunRow
from assay.storage.run_tables import RunRow

LeasedTable: TypeAlias = type[RunRow] | type[EvaluationRunRow]
"""A table whose rows are claimed with a lease (`status`, `worker_id`, `lease_until`, `attempts`)."""


def claimable(table: LeasedTable, now: datetime, *also: ColumnElement[bool]) -> ColumnElement[bool]:
    """Queued, or meeting one of `also`, or running with a lease that lapsed before `now`."""
    return or_(table.status == "queued", *also, and_(table.status == "running", table.lease_until < now))


def claim_statement(
    table: LeasedTable,
    *,
    which: ColumnElement[bool],
    condition: ColumnElement[bool],
    worker_id: str,
    now: datetime,
    lease: timedelta,
    **values: Any,
) -> Update:
    """The UPDATE that claims the rows matching `which` that still meet `condition` (see `claimable`).

    `values` are the table's further columns set by a claim.
    """
    return (
        update(table)
        .where(which, condition)
        .values(status="running", worker_id=worker_id, lease_until=now + lease, attempts=table.attempts + 1, **values)
    )
