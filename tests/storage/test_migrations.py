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


async def test_revisions_migration_numbers_environments_and_versions_existing_items(tmp_path):
    """Environments made before 0014 get project numbers in creation order; a dataset's items, revision 1."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    tables = metadata.tables
    first, second, dataset, kept, gone = (uuid.uuid4() for _ in range(5))
    now = datetime.now(UTC)
    try:
        await upgrade(engine, "0013")
        async with engine.begin() as conn:
            for number, env in enumerate((second, first)):  # `first` is older
                await conn.execute(
                    tables["environments"]
                    .insert()
                    .values(id=env, name=str(env), project_token=str(env)[:60], created_at=now - timedelta(days=number))
                )
            await conn.execute(tables["datasets"].insert().values(id=dataset, environment_id=first, name="d"))
            for item, deleted in ((kept, False), (gone, True)):
                await conn.execute(
                    tables["dataset_items"]
                    .insert()
                    .values(id=item, environment_id=first, dataset_id=dataset, input={"q": "hi"}, deleted=deleted)
                )
        await upgrade(engine)
        async with engine.connect() as conn:
            numbers = dict(
                (await conn.execute(select(tables["environments"].c.id, tables["environments"].c.project_number))).all()
            )
            assert numbers == {first: 1, second: 2}
            current = await conn.scalar(select(tables["datasets"].c.current_revision))
            versions = (
                await conn.execute(
                    select(
                        tables["dataset_item_versions"].c.item_id,
                        tables["dataset_item_versions"].c.archived,
                        tables["dataset_item_versions"].c.valid_from,
                        tables["dataset_item_versions"].c.input,
                    )
                )
            ).all()
        assert current == 1
        assert sorted(versions, key=lambda v: v[1]) == [(kept, False, 1, {"q": "hi"}), (gone, True, 1, {"q": "hi"})]
    finally:
        await engine.dispose()
