"""Opening the configured database from CLI commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from assay.settings import Settings
from assay.storage.db import Session, make_engine, make_sessionmaker
from assay.storage.migrate import upgrade


@asynccontextmanager
async def open_session(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Session]:
    """A session on the configured database, migrated first, committed on success."""
    engine = make_engine(settings.database_url)
    try:
        if migrate:
            await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            yield session
            await session.commit()
    finally:
        await engine.dispose()
