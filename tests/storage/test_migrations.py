"""Migrations build the schema the ORM expects, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from assay.storage.db import make_engine
from assay.storage.migrate import current_revision, upgrade
from assay.storage.schema import metadata


def _ours(name: str | None, type_: str, parent_names: object) -> bool:
    """Procrastinate's tables share the database (its schema is applied apart): not compared with the models."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate"))


async def test_migrated_schema_matches_models(database_url):
    engine = make_engine(database_url)
    try:
        await upgrade(engine)  # idempotent on an up-to-date database
        assert await current_revision(engine) is not None
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": False, "include_name": _ours}), metadata
                )
            )
        assert diff == []
    finally:
        await engine.dispose()


async def test_sqlite_pragmas(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
    finally:
        await engine.dispose()
