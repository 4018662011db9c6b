"""Deferring work to the job queue: a run's chunk jobs, the online scheduling and evaluation jobs.

`QueueDispatcher` is the run dispatcher of a process on PostgreSQL (`assay serve` too, with `ASSAY_WORKERS=0`):
`notify()` after a run was queued or events were stored defers jobs and never executes anything itself.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from procrastinate import App
from procrastinate.exceptions import AlreadyEnqueued

from assay.concurrency import STOP_GRACE_SECONDS, cancel_and_wait, wait_event
from assay.domain.statuses import RunStatus
from assay.engine.queue.app import CONTROL_QUEUE, ONLINE_QUEUE, RUNS_QUEUE
from assay.engine.runs.executor import record_end
from assay.storage import run_chunks, run_execution
from assay.storage.db import SessionFactory

logger = logging.getLogger(__name__)

RUN_CHUNK = "assay.run_chunk"
ONLINE_SCHEDULE = "assay.online_schedule"
ONLINE_EVALUATE = "assay.online_evaluate"
RECOVER = "assay.recover"


def chunk_lock(run_id: uuid.UUID | str, chunk: int) -> str:
    """The lock (and queueing lock) of one chunk: never two jobs of a chunk at once, nor two waiting."""
    return f"chunk:{run_id}:{chunk}"


async def defer_chunk(app: App, run_id: uuid.UUID | str, chunk: int) -> None:
    """Queue the chunk's job unless one is already waiting."""
    lock = chunk_lock(run_id, chunk)
    try:
        await app.configure_task(RUN_CHUNK, queue=RUNS_QUEUE, lock=lock, queueing_lock=lock).defer_async(
            run_id=str(run_id), chunk=chunk
        )
    except AlreadyEnqueued:
        pass


async def defer_once(app: App, task: str, queue: str = ONLINE_QUEUE) -> bool:
    """Queue `task` unless one is already waiting (its name is its queueing lock); True when queued now."""
    try:
        await app.configure_task(task, queue=queue, queueing_lock=task).defer_async()
    except AlreadyEnqueued:
        return False
    return True


async def dispatch_run(sessionmaker: SessionFactory, app: App, run_id: uuid.UUID, *, chunk_size: int) -> bool:
    """Plan a queued run's chunks, defer their jobs, then mark it running; True when this call dispatched it.

    Every step is idempotent (the plan is kept, a waiting chunk job is not queued twice, the mark is a
    conditional UPDATE), so a process dying in between leaves a queued run the next dispatch completes.
    """
    async with sessionmaker() as session:
        row = await run_execution.get_run_by_id(session=session, run_id=run_id)
        if row is None or row.status != RunStatus.QUEUED:
            return False
        chunks = await run_chunks.plan_chunks(
            session=session, run_id=run_id, pairs=row.total_cases, chunk_size=chunk_size
        )
        await session.commit()
    for chunk in sorted(chunks):
        await defer_chunk(app, run_id, chunk)
    async with sessionmaker() as session:
        dispatched = await run_chunks.mark_dispatched(session=session, run_id=run_id)
        if dispatched and not chunks:  # nothing to evaluate: the run ends now
            locked = await run_chunks.lock_run_if_done(session=session, run_id=run_id)
            if locked is not None:
                await record_end(session, locked, RunStatus.COMPLETED)
        await session.commit()
    return dispatched


async def dispatch_queued_runs(sessionmaker: SessionFactory, app: App, *, chunk_size: int, limit: int = 20) -> int:
    """Dispatch up to `limit` queued runs, oldest first; how many this call dispatched."""
    async with sessionmaker() as session:
        ids = await run_chunks.queued_run_ids(session=session, limit=limit)
    count = 0
    for run_id in ids:
        count += await dispatch_run(sessionmaker, app, run_id, chunk_size=chunk_size)
    return count


class QueueDispatcher:
    """Defers queue jobs when woken: queued runs become chunk jobs; stored events wake the online jobs."""

    def __init__(
        self,
        sessionmaker: SessionFactory,
        app: App,
        *,
        chunk_size: int,
        online: bool,
        poll_interval: float = 2.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._app = app
        self._chunk_size = chunk_size
        self._online = online
        self._poll = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.worker_id = "queue-dispatcher"

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="assay-queue-dispatcher")

    def notify(self) -> None:
        """Something was queued or stored: defer the jobs for it soon (cheap; no I/O here)."""
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task], grace=STOP_GRACE_SECONDS, what="queue dispatcher")
            self._task = None

    async def _loop(self) -> None:
        while True:
            await wait_event(self._wake, self._poll)
            self._wake.clear()
            try:
                await dispatch_queued_runs(self._sessionmaker, self._app, chunk_size=self._chunk_size)
                if self._online:
                    await defer_once(self._app, ONLINE_SCHEDULE)
                    await defer_once(self._app, ONLINE_EVALUATE)
            except Exception:
                logger.exception("deferring queue jobs failed; retrying")
                await asyncio.sleep(0.5)


__all__ = [
    "CONTROL_QUEUE",
    "ONLINE_EVALUATE",
    "ONLINE_SCHEDULE",
    "RECOVER",
    "RUN_CHUNK",
    "QueueDispatcher",
    "defer_chunk",
    "defer_once",
    "dispatch_queued_runs",
    "dispatch_run",
]
