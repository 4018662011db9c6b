"""`assay worker`: run evaluations in the background without serving HTTP; `assay worker status`: the cluster."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from assay.cli.long_running import settle_process

if TYPE_CHECKING:
    from assay.settings import Settings
    from assay.storage.db import SessionFactory

worker_app = typer.Typer(help="Background workers.", invoke_without_command=True)


@worker_app.callback()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None, typer.Option(help="Cases evaluated at once by this process (ASSAY_WORKER_CONCURRENCY).", min=1)
    ] = None,
) -> None:
    """Execute queued runs and online evaluations from the configured database until stopped.

    On PostgreSQL, start any number on any machines sharing the database (ASSAY_DATABASE_URL): they take the
    runs' chunk jobs and the online evaluation jobs from the queue. SIGTERM drains (cases in flight finish,
    the rest goes back to the queue).
    """
    if ctx.invoked_subcommand is not None:
        return
    from assay.sandbox.shared import configure as configure_sandbox
    from assay.settings import get_settings

    settings = get_settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    settle_process()
    configure_sandbox(settings.sandbox_pool_config())
    asyncio.run(_work(settings))


async def _work(settings: Settings) -> None:
    from assay.concurrency import STOP_GRACE_SECONDS, cancel_and_wait
    from assay.engine.background import BackgroundWorkers
    from assay.engine.queue.schema import apply_queue_schema_at
    from assay.engine.queue.worker import QueueWorker
    from assay.providers import close_registry
    from assay.settings import uses_job_queue
    from assay.storage.db import make_engine, make_sessionmaker
    from assay.storage.migrate import upgrade
    from assay.targets import close_http_clients

    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    await upgrade(engine)
    if uses_job_queue(settings):
        await apply_queue_schema_at(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    console = Console(stderr=True)
    sweeper: asyncio.Task[None] | None = None
    try:
        if uses_job_queue(settings):
            sweeper = _otlp_sweeper(sessionmaker, settings, notify=None)
            queue_worker = QueueWorker(sessionmaker, settings)
            console.print(f"assay worker {queue_worker.name} (concurrency {queue_worker.concurrency}) on the job queue")
            running = asyncio.create_task(queue_worker.run())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
            queue_worker.drain()
            stopping.cancel()
            await running
        else:
            workers = BackgroundWorkers(sessionmaker, settings)
            await workers.start()
            sweeper = _otlp_sweeper(sessionmaker, settings, notify=workers.online.notify if workers.online else None)
            name = workers.dispatcher.worker_id if workers.dispatcher else ""
            console.print(f"assay worker {name} running on {settings.database_url}")
            try:
                await stop.wait()
            finally:
                await workers.stop()
    finally:
        if sweeper is not None:
            await cancel_and_wait([sweeper], grace=STOP_GRACE_SECONDS, what="OTLP sweeper")
        await close_registry()
        await close_http_clients()
        await engine.dispose()


def _otlp_sweeper(
    sessionmaker: SessionFactory, settings: Settings, *, notify: Callable[[], None] | None
) -> asyncio.Task[None]:
    """The loop that stores OTLP spans whose log events never came, once their wait is over."""
    from assay.services.otlp_ingestion import sweep_forever, sweep_interval

    interval = sweep_interval(settings.otlp_log_wait_seconds)
    return asyncio.create_task(sweep_forever(sessionmaker, interval=interval, notify=notify))


@worker_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Workers alive with their concurrency and load, queue depth per queue, stalled jobs, the budgets' fill."""
    from assay.settings import get_settings, uses_job_queue
    from assay.storage import worker_processes
    from assay.storage.db import make_engine, make_sessionmaker

    settings = get_settings()
    if not uses_job_queue(settings):
        Console(stderr=True).print("[red]error:[/red] worker status needs the job queue (a PostgreSQL database)")
        raise typer.Exit(1)

    async def read() -> dict[str, object]:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                found = await worker_processes.queue_status(
                    session=session, stalled_seconds=settings.queue_stalled_seconds
                )
            return worker_processes.as_dict(found)
        finally:
            await engine.dispose()

    data = asyncio.run(read())
    if as_json:
        print(json.dumps(data, indent=2))
        return
    _print_status(data)


def _print_status(data: dict[str, object]) -> None:
    console = Console()
    workers = Table("worker", "alive", "concurrency", "in flight", "load", "jobs", "heartbeat", title="Workers")
    total = 0
    for w in data["workers"]:  # type: ignore[attr-defined]
        total += w["concurrency"] if w["alive"] else 0
        workers.add_row(
            w["name"],
            "yes" if w["alive"] else "no",
            str(w["concurrency"]),
            str(w["in_flight"]),
            f"{w['load']:.0%}",
            str(w["jobs"]),
            w["heartbeat_at"],
        )
    console.print(workers)
    console.print(f"cluster concurrency: {total} cases at once across the live workers")
    queues = Table("queue", "todo", "doing", "failed", title="Queues")
    for name, counts in sorted(data["queues"].items()):  # type: ignore[attr-defined]
        queues.add_row(name, str(counts.get("todo", 0)), str(counts.get("doing", 0)), str(counts.get("failed", 0)))
    console.print(queues)
    console.print(f"stalled jobs: {data['stalled_jobs']}")
    budgets = Table("budget", "limits", "per minute", "capacity", "fill", title="Cluster rate budgets")
    for b in data["budgets"]:  # type: ignore[attr-defined]
        budgets.add_row(b["name"], b["label"], f"{b['per_minute']:g}", f"{b['capacity']:g}", f"{b['fill']:.0%}")
    console.print(budgets)
