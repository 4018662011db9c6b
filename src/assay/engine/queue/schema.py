"""Applying Procrastinate's own schema (its tables, functions and triggers): once, in its own step."""

from __future__ import annotations

from procrastinate import App


async def apply_queue_schema(app: App) -> bool:
    """Create the queue's schema unless it is there already; True when it was created now.

    Procrastinate's schema script is not idempotent, so its presence (the jobs table) is checked first.
    """
    present = await app.connector.execute_query_one_async(
        "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
    )
    if present["present"]:
        return False
    await app.schema_manager.apply_schema_async()
    return True


async def apply_queue_schema_at(database_url: str) -> bool:
    """Apply the queue's schema to a PostgreSQL database (`assay db upgrade`, `assay serve`, `assay worker`)."""
    from assay.engine.queue.app import build_app

    app = build_app(database_url)
    async with app.open_async():
        return await apply_queue_schema(app)
