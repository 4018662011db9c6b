"""`assay serve`: migrate the database and serve both APIs with uvicorn."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from assay.cli.long_running import settle_process

if TYPE_CHECKING:
    from fastapi import FastAPI

    from assay.settings import Settings


def _migrate(settings: Settings) -> None:
    from assay.settings import uses_job_queue
    from assay.storage.db import make_engine
    from assay.storage.migrate import upgrade

    async def run() -> None:
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            if uses_job_queue(settings):
                from assay.engine.queue.schema import apply_queue_schema_at

                await apply_queue_schema_at(settings.database_url)
        finally:
            await engine.dispose()

    asyncio.run(run())


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (ASSAY_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (ASSAY_PORT).")] = None,
    processes: Annotated[
        int,
        typer.Option(help="Server processes sharing the port (PostgreSQL only; each reads the environment).", min=1),
    ] = 1,
) -> None:
    """Apply migrations, then serve the API (and background workers) until interrupted."""
    import uvicorn  # here and below: the other commands start without the web stack

    from assay.settings import get_settings, uses_job_queue

    settings = get_settings()
    updates = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    if updates:
        settings = settings.model_copy(update=updates)
    console = Console(stderr=True)
    if settings.uses_default_secret:
        console.print("[yellow]warning:[/yellow] ASSAY_SECRET_KEY is not set; using the development secret")
    _migrate(settings)
    console.print(f"Assay serving on [bold]{settings.base_url}[/bold]  (docs: {settings.base_url}/docs)")
    console.print(f"database: {settings.database_url}")
    if processes > 1:
        if not uses_job_queue(settings):
            console.print("[red]error:[/red] --processes needs PostgreSQL (SQLite takes one writing process)")
            raise typer.Exit(2)
        uvicorn.run(
            "assay.cli.serve:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=processes,
            log_level=settings.log_level,
        )
        return
    from assay.api.app import create_app

    app = create_app(settings)
    settle_process()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)


def app_from_environment() -> FastAPI:
    """The app of one of several server processes (`--processes`), configured from the environment."""
    from assay.api.app import create_app
    from assay.settings import get_settings

    settle_process()
    return create_app(get_settings())
