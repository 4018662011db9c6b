"""Opening the configured database from CLI commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assay.settings import Settings
    from assay.storage.db import Session


@asynccontextmanager
async def open_session(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Session]:
    """A session on the configured database, migrated first, committed on success."""
    from assay.storage.db import make_engine, make_sessionmaker  # here: `assay --help` starts without SQLAlchemy
    from assay.storage.migrate import upgrade

    engine = make_engine(settings.database_url)
    try:
        if migrate:
            await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            yield session
            await session.commit()
    finally:
        await engine.dispose()
