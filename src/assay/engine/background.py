"""The background work of one process: the run dispatcher and the online-evaluation scheduler.

`assay serve` starts it inside the web server; `assay worker` starts it alone, so more machines sharing
one PostgreSQL database add capacity (runs and evaluation runs are claimed with database leases).
"""

from __future__ import annotations

import asyncio

from assay.concurrency import STOP_GRACE_SECONDS
from assay.engine.online.scheduler import OnlineScheduler
from assay.engine.runs.dispatch import InProcessDispatcher
from assay.providers.registry import warm_up_sdks
from assay.settings import Settings
from assay.storage.db import SessionFactory


class BackgroundWorkers:
    """Start and stop the dispatcher and the scheduler together."""

    def __init__(self, sessionmaker: SessionFactory, settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.dispatcher: InProcessDispatcher | None = None
        self.online: OnlineScheduler | None = None
        self._warm_up: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._warm_up = asyncio.create_task(asyncio.to_thread(warm_up_sdks))
        self.dispatcher = InProcessDispatcher(
            self.sessionmaker,
            secret_key=self.settings.secret_key,
            max_parallel_runs=self.settings.max_parallel_runs,
            lease_seconds=self.settings.run_lease_seconds,
        )
        self.dispatcher.start()
        if self.settings.online_evaluation:
            self.online = OnlineScheduler(self.sessionmaker, self.settings)
            self.online.start()

    async def stop(self) -> None:
        """Stop claiming work; unfinished runs keep their lease and are resumed by the next worker."""
        if self._warm_up is not None:  # an import in a thread: it cannot be cancelled, only waited for
            await asyncio.wait({self._warm_up}, timeout=STOP_GRACE_SECONDS)
        if self.online is not None:
            await self.online.stop()
        if self.dispatcher is not None:
            await self.dispatcher.stop()
