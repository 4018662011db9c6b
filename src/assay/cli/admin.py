"""`assay db`, `assay env` and `assay keys`: schema, environments and API keys."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from assay.cli.context import open_session
from assay.domain.scopes import ALL_SCOPES, normalize_scopes
from assay.errors import DomainError

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
env_app = typer.Typer(help="Environments (the isolation unit; API keys belong to one).", no_args_is_help=True)
keys_app = typer.Typer(help="Personal API keys.", no_args_is_help=True)
console = Console()
T = TypeVar("T")


def _fail(message: str, code: int = 1) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's database work; a domain error (unknown environment, …) exits 1 with its message."""
    try:
        return asyncio.run(work)
    except DomainError as exc:
        raise _fail(exc.message) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to the configured database (ASSAY_DATABASE_URL)."""
    from assay.settings import get_settings, uses_job_queue
    from assay.storage.db import make_engine
    from assay.storage.migrate import current_revision, upgrade

    settings = get_settings()

    async def run() -> str | None:
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    console.print(f"database at revision {asyncio.run(run())}")
    if uses_job_queue(settings):  # the job queue's own schema, in its own step (Procrastinate's schema manager)
        from assay.engine.queue.schema import apply_queue_schema_at

        created = asyncio.run(apply_queue_schema_at(settings.database_url))
        console.print("job queue schema " + ("created" if created else "already present"))


@env_app.command("create")
def env_create(name: str, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Create an environment."""
    from assay.settings import get_settings
    from assay.storage import environments as store

    async def run() -> dict[str, object]:
        async with open_session(get_settings()) as session:
            row = await store.create_environment(session=session, name=name)
            return {
                "id": str(row.id),
                "project_number": row.project_number,
                "name": row.name,
                "project_token": row.project_token,
            }

    data = _run(run())
    if as_json:
        print(json.dumps(data))
    else:
        console.print(
            f"created environment [bold]{data['name']}[/bold] ({data['id']}, project number {data['project_number']})"
        )


@env_app.command("list")
def env_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List environments."""
    from assay.settings import get_settings
    from assay.storage import environments as store

    async def run() -> list[dict[str, str]]:
        async with open_session(get_settings()) as session:
            rows = await store.list_environments(session=session)
            return [
                {
                    "id": str(r.id),
                    "project_number": str(r.project_number),
                    "name": r.name,
                    "project_token": r.project_token,
                    "created_at": r.created_at.isoformat(),
                }
                for r in rows
            ]

    data = asyncio.run(run())
    if as_json:
        print(json.dumps(data))
        return
    table = Table("id", "project number", "name", "project token", "created")
    for item in data:
        table.add_row(item["id"], item["project_number"], item["name"], item["project_token"], item["created_at"])
    console.print(table)


@env_app.command("rotate-token")
def env_rotate_token(
    environment: Annotated[str, typer.Argument(metavar="NAME_OR_ID", help="Environment name or id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Give an environment a new project token; SDKs sending the old one get 401 from now on."""
    from assay.services import environments as environment_service
    from assay.settings import get_settings
    from assay.storage import environments as store

    async def run() -> dict[str, str]:
        async with open_session(get_settings()) as session:
            env = await store.find_environment(session=session, id_or_name=environment)
            row = await environment_service.rotate_project_token(session=session, environment_id=env.id)
            return {"id": str(row.id), "name": row.name, "project_token": row.project_token}

    data = _run(run())
    if as_json:
        print(json.dumps(data))
    else:
        console.print(f"new project token for environment [bold]{data['name']}[/bold] ({data['id']})")
        console.print(f"[bold]{data['project_token']}[/bold]  (the old token no longer works)")


@keys_app.command("create")
def keys_create(
    environment: Annotated[str, typer.Option("--environment", "-e", help="Environment id or name.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated scopes; default all.")] = ",".join(ALL_SCOPES),
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an API key. The key is shown once; only its hash is stored."""
    from assay.settings import get_settings
    from assay.storage import environments as store

    try:
        scope_list = normalize_scopes(scopes.split(","))
    except ValueError as exc:
        raise _fail(str(exc), 2) from None

    async def run() -> dict[str, object]:
        async with open_session(get_settings()) as session:
            env = await store.find_environment(session=session, id_or_name=environment)
            row, new = await store.create_api_key(session=session, environment_id=env.id, scopes=scope_list, name=name)
            return {"id": str(row.id), "key": new.key, "environment_id": str(env.id), "scopes": scope_list}

    data = _run(run())
    if as_json:
        print(json.dumps(data))
    else:
        console.print(f"key {data['id']} for environment {data['environment_id']}")
        console.print(f"scopes: {', '.join(scope_list)}")
        console.print(f"[bold]{data['key']}[/bold]  (shown once; store it now)")


@keys_app.command("list")
def keys_list(
    environment: Annotated[str | None, typer.Option("--environment", "-e", help="Environment id or name.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List API keys (never the keys themselves)."""
    from assay.settings import get_settings
    from assay.storage import environments as store

    async def run() -> list[dict[str, object]]:
        async with open_session(get_settings()) as session:
            env_id = (await store.find_environment(session=session, id_or_name=environment)).id if environment else None
            rows = await store.list_api_keys(session=session, environment_id=env_id)
            return [
                {
                    "id": str(r.id),
                    "prefix": r.prefix,
                    "name": r.name,
                    "environment_id": str(r.environment_id),
                    "scopes": r.scopes,
                    "created_at": r.created_at.isoformat(),
                    "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
                    "revoked": r.revoked_at is not None,
                }
                for r in rows
            ]

    data = _run(run())
    if as_json:
        print(json.dumps(data))
        return
    table = Table("id", "prefix", "name", "environment", "scopes", "last used", "revoked")
    for k in data:
        table.add_row(
            str(k["id"]),
            str(k["prefix"]),
            str(k["name"]),
            str(k["environment_id"]),
            ",".join(k["scopes"]),
            str(k["last_used_at"] or "-"),
            "yes" if k["revoked"] else "no",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="Key id (or its unique prefix).")]) -> None:
    """Revoke an API key; requests with it get 401 from then on."""
    from assay.settings import get_settings
    from assay.storage import environments as store

    async def run() -> str:
        async with open_session(get_settings()) as session:
            row = await store.revoke_api_key(session=session, id_or_prefix=key_id)
            return str(row.id)

    console.print(f"revoked key {_run(run())}")
