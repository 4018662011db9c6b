"""Migration 0006 adds the nullable `runs.started_by` and takes it away again, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from assay.storage.db import make_engine
from assay.storage.migrate import alembic_config, current_revision, upgrade


async def _run_columns(engine) -> dict[str, bool]:  # noqa: ANN001
    async with engine.connect() as conn:
        columns = await conn.run_sync(lambda c: inspect(c).get_columns("runs"))
    return {column["name"]: column["nullable"] for column in columns}


async def test_started_by_goes_down_and_up_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert (await _run_columns(engine)).get("started_by") is True
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0005"))
        assert await current_revision(engine) == "0005"
        assert "started_by" not in await _run_columns(engine)
        await upgrade(engine)
        assert (await _run_columns(engine)).get("started_by") is True
    finally:
        await engine.dispose()
