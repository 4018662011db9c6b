"""The background work of one process: how runs and online evaluations are dispatched and executed.

On SQLite, `InProcessDispatcher` claims runs with a database lease and `OnlineScheduler` follows the events, both
in this process. On PostgreSQL (`settings.uses_job_queue`), a `QueueDispatcher` only defers jobs to Procrastinate (runs as chunk
jobs, online scheduling and evaluation passes); `assay worker` processes execute them (`engine/queue/worker.py`),
and `assay serve` runs one in-process too unless `ASSAY_WORKERS=0`. Both drive the same run engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from procrastinate import App

from assay.concurrency import STOP_GRACE_SECONDS
from assay.engine.online.scheduler import OnlineScheduler
from assay.engine.queue.app import build_app
from assay.engine.queue.budgets import install_cluster_budgets
from assay.engine.queue.dispatch import QueueDispatcher
from assay.engine.queue.worker import QueueWorker
from assay.engine.runs.dispatch import InProcessDispatcher
from assay.providers.registry import get_registry, warm_up_sdks
from assay.settings import Settings, uses_job_queue
from assay.storage.db import SessionFactory

logger = logging.getLogger(__name__)


class BackgroundWorkers:
    """Start and stop a process's dispatching (and, with `execute`, its executing) together."""

    def __init__(self, sessionmaker: SessionFactory, settings: Settings, *, execute: bool = True) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.execute = execute
        self.dispatcher: InProcessDispatcher | QueueDispatcher | None = None
        self.online: OnlineScheduler | QueueDispatcher | None = None
        self.queue_app: App | None = None
        self.queue_worker: QueueWorker | None = None
        self._queue_worker_task: asyncio.Task[None] | None = None
        self._warm_up: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.execute:
            self._warm_up = asyncio.create_task(asyncio.to_thread(warm_up_sdks))
        if uses_job_queue(self.settings):
            await self._start_queue()
            return
        if not self.execute:
            return
        self.dispatcher = InProcessDispatcher(
            self.sessionmaker,
            secret_key=self.settings.secret_key,
            max_parallel_runs=self.settings.max_parallel_runs,
            lease_seconds=self.settings.run_lease_seconds,
        )
        self.dispatcher.start()
        if self.settings.online_evaluation:
            scheduler = OnlineScheduler(self.sessionmaker, self.settings)
            scheduler.start()
            self.online = scheduler

    async def _start_queue(self) -> None:
        self.queue_app = build_app(self.settings.database_url)
        await self.queue_app.open_async()
        install_cluster_budgets(get_registry(), self.sessionmaker)
        dispatcher = QueueDispatcher(
            self.sessionmaker,
            self.queue_app,
            chunk_size=self.settings.chunk_size,
            online=self.settings.online_evaluation,
        )
        dispatcher.start()
        self.dispatcher = dispatcher
        if self.settings.online_evaluation:
            self.online = dispatcher
        if self.execute:
            self.queue_worker = QueueWorker(self.sessionmaker, self.settings)
            self._queue_worker_task = asyncio.create_task(self.queue_worker.run(), name="assay-queue-worker")

    async def wait(self) -> None:
        """Until the in-process queue worker ends on its own (it failed), or forever."""
        if self._queue_worker_task is not None:
            await asyncio.shield(self._queue_worker_task)
        else:
            await asyncio.Event().wait()

    async def stop(self) -> None:
        """Stop claiming work: in-process runs keep their lease; queue chunks put their rest back in the queue."""
        if self._warm_up is not None:  # an import in a thread: it cannot be cancelled, only waited for
            await asyncio.wait({self._warm_up}, timeout=STOP_GRACE_SECONDS)
        if self.queue_worker is not None and self._queue_worker_task is not None:
            self.queue_worker.drain()
            with contextlib.suppress(Exception):
                await self._queue_worker_task
        if self.online is not None and self.online is not self.dispatcher:
            await self.online.stop()
        if self.dispatcher is not None:
            await self.dispatcher.stop()
        if self.queue_app is not None:
            await self.queue_app.close_async()
