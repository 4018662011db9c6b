"""The judge cache table: judgements by key, so re-runs (and restarts) do not pay twice for one."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from assay.storage.run_tables import JudgeCacheRow


async def get_judgement(*, session: AsyncSession, key: str) -> dict[str, Any] | None:
    """The cached judgement for `key`, if any."""
    row = await session.get(JudgeCacheRow, key)
    return dict(row.value) if row is not None else None


async def store_judgement(*, session: AsyncSession, key: str, value: dict[str, Any]) -> None:
    """Store a judgement unless one is stored under `key` already; the caller commits."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        module.insert(JudgeCacheRow).values(key=key, value=value).on_conflict_do_nothing(index_elements=["key"])
    )
