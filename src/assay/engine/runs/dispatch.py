"""Dispatching runs to executors. In-process asyncio workers by default; the claim is a database lease,
so several processes (or a distributed queue) can share the same runs table safely.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Protocol

from assay.concurrency import STOP_GRACE_SECONDS, cancel_and_wait, wait_event
from assay.engine.runs.executor import execute_run
from assay.engine.runs.judge_cache import DatabaseJudgeCache
from assay.engine.runs.writer import DEFAULT_LEASE
from assay.providers import ProviderRegistry, get_registry
from assay.storage import run_execution
from assay.storage.db import SessionFactory

logger = logging.getLogger(__name__)


class Dispatcher(Protocol):
    """Where new runs are announced. A distributed worker pool implements the same two methods."""

    def notify(self) -> None: ...

    async def stop(self) -> None: ...


async def claim_run(
    sessionmaker: SessionFactory,
    run_id: uuid.UUID,
    worker_id: str,
    lease: timedelta = DEFAULT_LEASE,
) -> bool:
    """Take a queued run, or a running one whose lease has expired (its worker died). Atomic."""
    async with sessionmaker() as session:
        claimed = await run_execution.claim_run(session=session, run_id=run_id, worker_id=worker_id, lease=lease)
        await session.commit()
        return claimed


async def claimable_runs(sessionmaker: SessionFactory, limit: int) -> list[uuid.UUID]:
    """Up to `limit` runs that could be claimed now, oldest first."""
    async with sessionmaker() as session:
        return await run_execution.claimable_run_ids(session=session, limit=limit)


class InProcessDispatcher:
    """Polls the runs table (and wakes on `notify`) and executes claimed runs as asyncio tasks."""

    def __init__(
        self,
        sessionmaker: SessionFactory,
        *,
        secret_key: str,
        max_parallel_runs: int = 4,
        poll_interval: float = 1.0,
        registry: ProviderRegistry | None = None,
        lease_seconds: float = DEFAULT_LEASE.total_seconds(),
    ) -> None:
        self._lease = timedelta(seconds=lease_seconds)
        self._sessionmaker = sessionmaker
        self._secret_key = secret_key
        self._max = max_parallel_runs
        self._poll = poll_interval
        self._registry = registry
        self._wake = asyncio.Event()
        self._running: dict[uuid.UUID, asyncio.Task[str]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._cache = DatabaseJudgeCache(sessionmaker)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="assay-dispatcher")

    def notify(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming; running runs are cancelled and keep their lease, so a restart resumes them."""
        tasks = [*self._running.values(), *([self._loop_task] if self._loop_task else [])]
        await cancel_and_wait(tasks, grace=STOP_GRACE_SECONDS, what="run dispatcher")
        self._running.clear()

    async def _loop(self) -> None:
        while True:
            try:
                await self._claim_available()
            except Exception:
                logger.exception("dispatcher poll failed")
            await wait_event(self._wake, self._poll)
            self._wake.clear()

    async def _claim_available(self) -> None:
        free = self._max - len(self._running)
        if free <= 0:
            return
        for run_id in await claimable_runs(self._sessionmaker, free):
            if run_id in self._running or not await claim_run(self._sessionmaker, run_id, self.worker_id, self._lease):
                continue
            task = asyncio.create_task(self._execute(run_id), name=f"run-{run_id}")
            self._running[run_id] = task

    async def _execute(self, run_id: uuid.UUID) -> str:
        try:
            return await execute_run(
                run_id,
                sessionmaker=self._sessionmaker,
                secret_key=self._secret_key,
                registry=self._registry or get_registry(),
                judge_cache=self._cache,
                lease=self._lease,
            )
        finally:
            self._running.pop(run_id, None)
            self._wake.set()
