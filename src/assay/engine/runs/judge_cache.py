"""The judge cache kept in the database, so re-runs (and restarts) do not pay twice for the same judgement."""

from __future__ import annotations

from typing import Any

from assay.storage.db import SessionFactory
from assay.storage.judge_cache import get_judgement, store_judgement


class DatabaseJudgeCache:
    """`JudgeCache` over the `judge_cache` table, with a small in-process front for hot keys."""

    def __init__(self, sessionmaker: SessionFactory, *, front_size: int = 4096) -> None:
        self._sessionmaker = sessionmaker
        self._front: dict[str, dict[str, Any]] = {}
        self._front_size = front_size

    async def get(self, key: str) -> dict[str, Any] | None:
        if key in self._front:
            return self._front[key]
        async with self._sessionmaker() as session:
            value = await get_judgement(session=session, key=key)
        if value is not None:
            self._remember(key, value)
        return value

    async def set(self, key: str, value: dict[str, Any]) -> None:
        self._remember(key, value)
        async with self._sessionmaker() as session:
            await store_judgement(session=session, key=key, value=value)
            await session.commit()

    def _remember(self, key: str, value: dict[str, Any]) -> None:
        if len(self._front) >= self._front_size:
            self._front.pop(next(iter(self._front)))
        self._front[key] = value
