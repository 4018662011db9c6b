"""Alembic environment: runs on the connection `assay.storage.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from assay.storage.schema import metadata

target_metadata = metadata


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    # Procrastinate keeps its own tables in the same database; they are not ours to migrate.
    if type_ == "table" and name is not None and name.startswith("procrastinate"):
        return False
    return True


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=_include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `assay db upgrade`, which supplies the database connection")
run_migrations(connection)
