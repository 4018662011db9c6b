"""One `assay worker` process on PostgreSQL: a Procrastinate worker running Assay's tasks until drained.

Stopping (`drain()`, on SIGTERM) stops taking jobs and tells running chunks to finish their cases in flight and
put the rest back in the queue; the process then unregisters. Every `queue_heartbeat_seconds` the queue's
heartbeat and this process's status row (concurrency, jobs, cases in flight) are refreshed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

from procrastinate.worker import Worker

from assay.engine.online.scheduler import CURSOR_NAME, OnlineScheduler
from assay.engine.queue.app import QUEUES, build_app
from assay.engine.queue.budgets import install_cluster_budgets
from assay.engine.queue.runtime import QueueRuntime
from assay.engine.queue.schema import apply_queue_schema
from assay.providers import ProviderRegistry, get_registry
from assay.providers.registry import warm_up_sdks
from assay.settings import Settings
from assay.storage import online as online_store
from assay.storage import worker_processes
from assay.storage.db import SessionFactory

logger = logging.getLogger(__name__)
RESTART_SECONDS = 1.0


class QueueWorker:
    """Runs the queue's jobs in this process until `drain()`."""

    def __init__(
        self,
        sessionmaker: SessionFactory,
        settings: Settings,
        *,
        concurrency: int | None = None,
        registry: ProviderRegistry | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.concurrency = concurrency or settings.worker_concurrency
        self.registry = registry or get_registry()
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._drain = asyncio.Event()

    def drain(self) -> None:
        """Stop after the cases in flight (safe to call from a signal handler)."""
        self._drain.set()

    async def run(self) -> None:
        """Work until drained; every job in flight has ended (or put its rest back) when this returns.

        When the database goes away (a PostgreSQL restart), the queue worker stops; it is started again,
        on fresh connections, until the database answers and only `drain()` ends this.
        """
        while not self._drain.is_set():
            try:
                await self._run_once()
            except Exception:
                logger.exception("the queue worker stopped; starting it again in %.0f s", RESTART_SECONDS)
            if not self._drain.is_set():
                await asyncio.sleep(RESTART_SECONDS)

    async def _run_once(self) -> None:
        await asyncio.to_thread(warm_up_sdks)  # before taking jobs: the first chunk does not pay for the imports
        app = build_app(self.settings.database_url)
        async with app.open_async():
            await apply_queue_schema(app)
            runtime = QueueRuntime(
                app=app,
                sessionmaker=self.sessionmaker,
                settings=self.settings,
                registry=self.registry,
                concurrency=self.concurrency,
            )
            install_cluster_budgets(self.registry, self.sessionmaker)
            if self.settings.online_evaluation:
                async with self.sessionmaker() as session:
                    await online_store.ensure_cursor(session=session, name=CURSOR_NAME)
                runtime.online = OnlineScheduler(self.sessionmaker, self.settings, registry=self.registry)
            worker = Worker(
                app=app,
                queues=list(QUEUES),
                name=self.name,
                concurrency=self.settings.worker_jobs + 2,  # room for the online and recovery passes
                install_signal_handlers=False,
                additional_context={"runtime": runtime},
                update_heartbeat_interval=self.settings.queue_heartbeat_seconds,
                stalled_worker_timeout=self.settings.queue_stalled_seconds,
                delete_jobs="successful",
                fetch_job_polling_interval=1.0,
            )
            worker_task = asyncio.create_task(worker.run(), name="assay-queue-worker")  # type: ignore[no-untyped-call]
            reporter = asyncio.create_task(self._report(worker, runtime), name="assay-worker-report")
            drained = asyncio.create_task(self._drain.wait())
            await asyncio.wait({worker_task, drained}, return_when=asyncio.FIRST_COMPLETED)
            runtime.stop.set()
            worker.stop()  # type: ignore[no-untyped-call]
            try:
                await worker_task
            finally:
                drained.cancel()
                reporter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reporter
                if runtime.online is not None:
                    await runtime.online.stop()
                async with self.sessionmaker() as session:
                    await worker_processes.forget(session=session, name=self.name)
                    await session.commit()

    async def _report(self, worker: Worker, runtime: QueueRuntime) -> None:
        while True:
            try:
                async with self.sessionmaker() as session:
                    await worker_processes.report(
                        session=session,
                        name=self.name,
                        queue_worker_id=worker.worker_id,
                        concurrency=self.concurrency,
                        jobs=runtime.jobs,
                        in_flight=runtime.in_flight,
                    )
                    await session.commit()
            except Exception:
                logger.warning("reporting this worker's status failed; retrying", exc_info=True)
            await asyncio.sleep(self.settings.queue_heartbeat_seconds)
