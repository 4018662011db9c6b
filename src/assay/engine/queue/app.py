"""The Procrastinate app of a process: its connection, Assay's tasks, and the queues they use."""

from __future__ import annotations

from procrastinate import App, PsycopgConnector

RUNS_QUEUE = "runs"
ONLINE_QUEUE = "online"
CONTROL_QUEUE = "control"
QUEUES = (RUNS_QUEUE, ONLINE_QUEUE, CONTROL_QUEUE)


def queue_conninfo(database_url: str) -> str:
    """The libpq connection string for Procrastinate from Assay's SQLAlchemy URL (`postgresql+asyncpg://…`)."""
    scheme, sep, rest = database_url.partition("://")
    if not sep or not scheme.startswith("postgres"):
        raise ValueError("the job queue needs a PostgreSQL database URL")
    return f"postgresql://{rest}"


def build_app(database_url: str, *, pool_size: int = 4) -> App:
    """A Procrastinate app on the database, with every Assay task registered (open it with `open_async`)."""
    from assay.engine.queue.tasks import register_tasks

    connector = PsycopgConnector(conninfo=queue_conninfo(database_url), min_size=1, max_size=pool_size)
    app = App(connector=connector)
    register_tasks(app)
    return app
