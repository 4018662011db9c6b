"""The single writer of a run: batches results and flushes them with bulk inserts.

Results are flushed every `interval` seconds or `batch_size` rows, whichever comes first, in one
transaction that also moves the run's counters and lease forward. The insert ignores rows whose
(run, case, repetition) already exists, so a retried flush is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assay.concurrency import wait_event
from assay.storage.db import write_lock
from assay.storage.run_tables import ResultRow, RunRow
from assay.storage.types import utcnow

logger = logging.getLogger(__name__)
DEFAULT_LEASE = timedelta(seconds=20)


def insert_ignoring_duplicates(session: AsyncSession, rows: list[dict[str, Any]]) -> Any:
    """An INSERT of result rows that skips (run, case, repetition) already stored."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module = postgresql if dialect == "postgresql" else sqlite
    return (
        module.insert(ResultRow)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["run_id", "test_case_id", "repetition"])
    )


class ResultWriter:
    """Collects results from many case tasks; one background task writes them."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        run_id: uuid.UUID,
        *,
        interval: float = 0.05,
        batch_size: int = 100,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self._lease = lease
        self._sessionmaker = sessionmaker
        self._run_id = run_id
        self._interval = interval
        self._batch_size = batch_size
        self._pending: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.errors_written = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"result-writer-{self._run_id}")

    def add(self, row: dict[str, Any]) -> None:
        self._pending.append(row)
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    async def close(self) -> None:
        """Flush everything still pending and stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def heartbeat(self) -> None:
        """Extend the run's lease even when no result is ready (slow agents)."""
        async with self._sessionmaker() as session, write_lock(session):
            await session.execute(
                update(RunRow).where(RunRow.id == self._run_id).values(lease_until=utcnow() + self._lease)
            )
            await session.commit()

    async def _loop(self) -> None:
        while True:
            await wait_event(self._wake, self._interval)
            self._wake.clear()
            if self._pending:
                batch, self._pending = self._pending, []
                await self._flush(batch)
            if self._closing and not self._pending:
                return

    async def _flush(self, batch: list[dict[str, Any]]) -> None:
        errors = sum(1 for row in batch if row["status"] == "error")
        for attempt in range(5):
            try:
                async with self._sessionmaker() as session, write_lock(session):
                    for start in range(0, len(batch), 500):
                        await session.execute(insert_ignoring_duplicates(session, batch[start : start + 500]))
                    await session.execute(
                        update(RunRow)
                        .where(RunRow.id == self._run_id)
                        .values(
                            completed_cases=RunRow.completed_cases + len(batch),
                            error_cases=RunRow.error_cases + errors,
                            lease_until=utcnow() + self._lease,
                        )
                    )
                    await session.commit()
                self.written += len(batch)
                self.errors_written += errors
                return
            except Exception:  # a locked or briefly unreachable database: retry, never drop results
                logger.exception("writing %d results failed (attempt %d)", len(batch), attempt + 1)
                await asyncio.sleep(0.2 * 2**attempt)
        raise RuntimeError(f"could not store {len(batch)} results of run {self._run_id}")
