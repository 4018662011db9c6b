"""`assay worker`: run evaluations in the background without serving HTTP."""

from __future__ import annotations

import asyncio
import signal

from rich.console import Console

from assay.cli.long_running import settle_process
from assay.engine.background import BackgroundWorkers
from assay.providers import close_registry
from assay.sandbox.shared import configure as configure_sandbox
from assay.services.otlp_ingestion import sweep_forever, sweep_interval
from assay.settings import get_settings
from assay.storage.db import make_engine, make_sessionmaker
from assay.storage.migrate import upgrade
from assay.targets import close_http_clients


def worker() -> None:
    """Execute queued runs and online evaluations from the configured database until stopped.

    Start several on machines sharing one PostgreSQL database (ASSAY_DATABASE_URL) to add capacity.
    """
    settings = get_settings()
    configure_sandbox(settings.sandbox_pool_config())

    async def main() -> None:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        await upgrade(engine)
        workers = BackgroundWorkers(make_sessionmaker(engine), settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        workers.start()
        sweeper = asyncio.create_task(
            sweep_forever(
                workers.sessionmaker,
                interval=sweep_interval(settings.otlp_log_wait_seconds),
                notify=workers.online.notify if workers.online is not None else None,
            )
        )
        Console(stderr=True).print(
            f"assay worker {workers.dispatcher.worker_id if workers.dispatcher else ''} "
            f"running on {settings.database_url}"
        )
        try:
            await stop.wait()
        finally:
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            await workers.stop()
            await close_registry()
            await close_http_clients()
            await engine.dispose()

    settle_process()
    asyncio.run(main())
