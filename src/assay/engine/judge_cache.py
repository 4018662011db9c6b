"""The judge cache kept in the database, so re-runs (and restarts) do not pay twice for the same judgement."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assay.storage.run_tables import JudgeCacheRow


class DatabaseJudgeCache:
    """`JudgeCache` over the `judge_cache` table, with a small in-process front for hot keys."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, front_size: int = 4096) -> None:
        self._sessionmaker = sessionmaker
        self._front: dict[str, dict[str, Any]] = {}
        self._front_size = front_size

    async def get(self, key: str) -> dict[str, Any] | None:
        if key in self._front:
            return self._front[key]
        async with self._sessionmaker() as session:
            row = await session.get(JudgeCacheRow, key)
            value = dict(row.value) if row is not None else None
        if value is not None:
            self._remember(key, value)
        return value

    async def set(self, key: str, value: dict[str, Any]) -> None:
        self._remember(key, value)
        async with self._sessionmaker() as session:
            module = postgresql if session.bind.dialect.name == "postgresql" else sqlite
            await session.execute(
                module.insert(JudgeCacheRow).values(key=key, value=value).on_conflict_do_nothing(index_elements=["key"])
            )
            await session.commit()

    def _remember(self, key: str, value: dict[str, Any]) -> None:
        if len(self._front) >= self._front_size:
            self._front.pop(next(iter(self._front)))
        self._front[key] = value
