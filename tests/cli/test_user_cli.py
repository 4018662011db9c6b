"""`assay user create`: the first admin of an environment, who can then sign in to the web UI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from assay.api.app import create_app
from assay.cli.main import app as cli
from assay.settings import Settings, get_settings
from tests.web.conftest import form_token

PASSWORD = "a long enough password"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ASSAY_DATABASE_URL", url)
    monkeypatch.setenv("ASSAY_PASSWORD_MEMORY_KIB", "256")
    monkeypatch.setenv("ASSAY_PASSWORD_TIME_COST", "1")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def sign_in(url: str, email: str, password: str) -> httpx.Response:
    settings = Settings(database_url=url, password_memory_kib=256, password_time_cost=1, _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as web:
            page = await web.get("/login")
            form = {"email": email, "password": password, "csrf_token": form_token(page.text)}
            return await web.post("/login", data=form)
    finally:
        await app.state.engine.dispose()


def test_user_create_makes_an_admin_who_can_sign_in(database: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["env", "create", "staging"]).exit_code == 0
    args = ["user", "create", "--email", "Ada@Example.com", "--name", "Ada", "--environment", "staging"]
    created = runner.invoke(cli, [*args, "--password-stdin", "--json"], input=f"{PASSWORD}\n")
    assert created.exit_code == 0, created.output
    data = json.loads(created.stdout)
    assert data["email"] == "ada@example.com" and data["role"] == "admin"

    again = runner.invoke(cli, [*args, "--password-stdin"], input=f"{PASSWORD}\n")
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke(cli, [*args[:3], "bo@example.com", *args[4:], "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10" in short.output
    prompted = runner.invoke(
        cli, [*args[:3], "di@example.com", *args[4:], "--role", "reviewer"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert prompted.exit_code == 0, prompted.output

    answer = asyncio.run(sign_in(database, "ada@example.com", PASSWORD))
    assert answer.status_code == 303, answer.text
    assert asyncio.run(sign_in(database, "ada@example.com", "wrong password!")).status_code == 401
