"""Building the `assay` command line imports only the CLI: each command imports its heavy modules when it runs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

HEAVY = (
    "sqlalchemy",
    "alembic",
    "aiosqlite",
    "asyncpg",
    "procrastinate",
    "uvicorn",
    "fastapi",
    "httpx",
    "pydantic_settings",  # assay.settings: some 0.35 s on its own
    "assay.api",
    "assay.client",
    "assay.engine",
    "assay.evaluators",
    "assay.local",
    "assay.providers",
    "assay.sandbox",
    "assay.services",
    "assay.settings",
    "assay.storage",
    "assay.targets",
)


def test_building_the_command_line_imports_no_server_module() -> None:
    script = textwrap.dedent(
        f"""
        import json, sys
        import typer.main
        from assay.cli.main import app
        command = typer.main.get_command(app)  # resolves every command's parameters, as `assay --help` does
        assert {{"run", "serve", "worker", "env", "keys", "db"}} <= set(command.commands), sorted(command.commands)
        heavy = {HEAVY!r}
        print(json.dumps(sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy))))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
