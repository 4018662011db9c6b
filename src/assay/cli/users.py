"""`assay user`: people's accounts for the web UI (the first admin of an environment)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console

from assay.cli.admin import _fail, _run
from assay.cli.context import open_session

users_app = typer.Typer(help="People's accounts for the web UI.", no_args_is_help=True)
console = Console()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="The person's email (their sign-in name).")],
    name: Annotated[str, typer.Option(help="The person's name, as overrides record it.")],
    environment: Annotated[str, typer.Option("--environment", "-e", help="Environment id or name.")],
    role: Annotated[str, typer.Option(help="viewer, reviewer or admin.")] = "admin",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create an account with a role in an environment; the password is prompted for (or read from stdin)."""
    from assay.services import users as user_service
    from assay.services.passwords import Passwords
    from assay.settings import get_settings

    password = _read_password(password_stdin)
    if not password:
        raise _fail("a password is required", 2)

    settings = get_settings()
    hasher = Passwords(memory_kib=settings.password_memory_kib, time_cost=settings.password_time_cost)

    async def run() -> dict[str, str]:
        async with open_session(settings) as session:
            user, env = await user_service.create_user(
                session=session,
                passwords=hasher,
                email=email,
                name=name,
                password=password,
                environment=environment,
                role=role,
            )
            return {
                "id": str(user.id),
                "email": user.email,
                "name": user.name,
                "environment_id": str(env.id),
                "role": role,
            }

    data = _run(run())
    if as_json:
        print(json.dumps(data))
    else:
        console.print(
            f"created [bold]{data['email']}[/bold] ({data['id']}) as {data['role']} of {data['environment_id']}"
        )
