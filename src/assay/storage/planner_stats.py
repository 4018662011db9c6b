"""Keeping SQLite's query planner informed: table statistics (`ANALYZE`), refreshed at start and then hourly.

Without statistics SQLite guesses, and with an events table of a million rows it guesses wrong: it follows the
(environment, event, seq) index for a trace's events instead of the trace index, reading every event to find
seven. `analysis_limit` makes each refresh read a bounded sample of each index, so it takes milliseconds at
any size. PostgreSQL's autovacuum keeps its own statistics: nothing to do there.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError

from assay.storage.db import DatabaseEngine

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 3600.0
ANALYSIS_LIMIT = 1000


async def refresh_planner_statistics(engine: DatabaseEngine) -> None:
    """Refresh SQLite's planner statistics (approximate, bounded work); nothing on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return
    async with engine.begin() as connection:
        await connection.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        await connection.exec_driver_sql("ANALYZE")


async def keep_planner_statistics(engine: DatabaseEngine, every: float = REFRESH_SECONDS) -> None:
    """Refresh now and then every `every` seconds, until cancelled; a failed refresh is logged and retried."""
    while True:
        try:
            await refresh_planner_statistics(engine)
        except SQLAlchemyError as exc:  # a busy database: the next round tries again
            logger.warning("could not refresh SQLite planner statistics: %s", exc)
        await asyncio.sleep(every)
