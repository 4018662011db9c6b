"""Cluster-wide rate budgets: token buckets in PostgreSQL that every process draws from in small batches."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_ENSURE = text(
    "INSERT INTO rate_budgets (name, rate, capacity, tokens, updated_at, label)"
    " VALUES (:name, :rate, :capacity, :capacity, clock_timestamp(), :label) ON CONFLICT (name) DO NOTHING"
)
# One statement: refill for the time elapsed, grant what is there (at most `want`), keep the rest.
_DRAW = text(
    """
    WITH current AS (
        SELECT name,
               least(capacity, tokens + greatest(0, extract(epoch FROM clock_timestamp() - updated_at)) * rate) AS avail
          FROM rate_budgets WHERE name = :name FOR UPDATE
    )
    UPDATE rate_budgets AS b
       SET tokens = current.avail - least(:want, greatest(current.avail, 0)),
           updated_at = clock_timestamp(), rate = :rate, capacity = :capacity
      FROM current
     WHERE b.name = current.name
 RETURNING least(:want, greatest(current.avail, 0)) AS granted
    """
)


async def draw(
    *, session: AsyncSession, name: str, rate: float, capacity: float, want: float, label: str = ""
) -> float:
    """Take up to `want` tokens from the bucket `name` (created full at its first use); how many were granted.

    `rate` (per second) and `capacity` are refreshed on every draw, so a changed limit applies at once.
    Commits (a draw must not hold the row lock any longer than its statement).
    """
    params = {"name": name, "rate": rate, "capacity": capacity, "want": float(want), "label": label[:300]}
    granted = await session.scalar(_DRAW, params)
    if granted is None:
        await session.execute(_ENSURE, params)
        granted = await session.scalar(_DRAW, params)
    await session.commit()
    return float(granted or 0.0)
