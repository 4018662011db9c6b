"""The `assay` command."""

from __future__ import annotations

import typer

from assay.cli.admin import db_app, env_app, keys_app
from assay.cli.analysis import agreement, compare
from assay.cli.demo import demo
from assay.cli.doctor import doctor
from assay.cli.importing import import_app
from assay.cli.run import run
from assay.cli.serve import serve
from assay.cli.users import users_app
from assay.cli.worker import worker_app

app = typer.Typer(
    name="assay",
    help="Assay: evaluate LLM applications and agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(serve)
app.command()(run)
app.command()(demo)
app.command()(compare)
app.command()(agreement)
app.command()(doctor)
app.add_typer(worker_app, name="worker")
app.add_typer(db_app, name="db")
app.add_typer(env_app, name="env")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="user")
app.add_typer(import_app, name="import")


def main() -> None:
    app()
