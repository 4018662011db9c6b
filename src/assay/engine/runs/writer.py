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

from assay.concurrency import wait_event
from assay.domain.runs import CaseResult
from assay.storage.db import SessionFactory, write_lock
from assay.storage.run_execution import extend_lease
from assay.storage.run_results import store_results

logger = logging.getLogger(__name__)
DEFAULT_LEASE = timedelta(seconds=20)


class ResultWriter:
    """Collects results from many case tasks; one background task writes them."""

    def __init__(
        self,
        sessionmaker: SessionFactory,
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
        self._pending: list[CaseResult] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"result-writer-{self._run_id}")

    def add(self, result: CaseResult) -> None:
        self._pending.append(result)
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
            await extend_lease(session=session, run_id=self._run_id, lease=self._lease)
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

    async def _flush(self, batch: list[CaseResult]) -> None:
        for attempt in range(5):
            try:
                async with self._sessionmaker() as session, write_lock(session):
                    await store_results(session=session, run_id=self._run_id, results=batch, lease=self._lease)
                    await session.commit()
                return
            except Exception:  # a locked or briefly unreachable database: retry, never drop results
                logger.exception("writing %d results failed (attempt %d)", len(batch), attempt + 1)
                await asyncio.sleep(0.2 * 2**attempt)
        raise RuntimeError(f"could not store {len(batch)} results of run {self._run_id}")
