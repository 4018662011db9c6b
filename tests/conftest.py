"""Shared fixtures: a migrated database per test (SQLite and PostgreSQL), the app, and API keys."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url

from assay.api.app import create_app
from assay.domain.scopes import ALL_SCOPES
from assay.settings import Settings
from assay.storage import environments as env_store
from assay.storage.db import make_engine, make_sessionmaker
from assay.storage.migrate import upgrade
from assay.storage.schema import metadata
from assay.testing.fake_llm import FakeLLMServer, free_port

# Property tests judge behaviour, not speed: a per-example deadline only measures how busy the machine is.
hypothesis_settings.register_profile("assay", deadline=None)
hypothesis_settings.load_profile("assay")

POSTGRES_URL = os.environ.get("ASSAY_TEST_POSTGRES_URL")
_sqlite_template: Path | None = None
_pg_prepared: set[str] = set()


_CLEARED_PREFIXES = ("ASSAY_", "OPENAI_", "ANTHROPIC_")
_KEPT_PREFIXES = ("ASSAY_TEST_", "ASSAY_FUZZ_")  # the suite's own knobs (scripts/test, tests/api/test_fuzz.py)


@pytest.fixture(autouse=True)
def _no_outside_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test without the caller's Assay and provider variables, so no test reaches a real provider."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) and not name.startswith(_KEPT_PREFIXES):
            monkeypatch.delenv(name)
    # The engine's tests drive the in-process dispatcher on both databases; tests/job_queue/ opts into the job queue.
    monkeypatch.setenv("ASSAY_DISPATCH", "in_process")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _sqlite_url(tmp_path: Path) -> str:
    global _sqlite_template
    if _sqlite_template is None:
        template = Path(os.environ.get("TMPDIR", "/tmp")) / f"assay-template-{_worker()}-{uuid.uuid4().hex}.db"
        asyncio.run(_migrate(f"sqlite+aiosqlite:///{template}"))
        _sqlite_template = template
    target = tmp_path / "assay.db"
    shutil.copyfile(_sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


_SEQUENCES = text(
    "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = 'public'"
)


async def _reset_postgres(url: str) -> None:
    """Empty every table and restart the sequences. One round trip of DELETEs (children first): a test leaves a
    few rows, and deleting them is about twice as fast as TRUNCATE, which replaces every table's files."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            sequences = (await conn.execute(_SEQUENCES)).scalars().all()
            statements = [f'DELETE FROM "{t.name}"' for t in reversed(metadata.sorted_tables)]
            statements += [f"ALTER SEQUENCE {name} RESTART" for name in sequences]
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute("; ".join(statements))  # asyncpg's simple protocol: many statements
    finally:
        await engine.dispose()


async def _postgres_url() -> str:
    assert POSTGRES_URL
    db_name = f"assay_test_{_worker()}_{os.getpid()}".replace("-", "_")
    url = make_url(POSTGRES_URL).set(database=db_name).render_as_string(hide_password=False)
    if db_name not in _pg_prepared:
        admin = make_engine(POSTGRES_URL)
        try:
            async with admin.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
                await conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        finally:
            await admin.dispose()
        await _migrate(url)
        _pg_prepared.add(db_name)
    else:
        await _reset_postgres(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database: SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return await asyncio.to_thread(_sqlite_url, tmp_path)
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("ASSAY_TEST_POSTGRES_URL is not set: run the suite with scripts/test")
        pytest.skip("PostgreSQL tests need ASSAY_TEST_POSTGRES_URL (scripts/test starts a throwaway server)")
    return await _postgres_url()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, max_body_bytes=1024 * 1024, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def app(settings: Settings):  # noqa: ANN201
    application = create_app(settings)
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # noqa: ANN001
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass
class Env:
    """An environment with one API key, and ready-made headers."""

    id: str
    name: str
    key: str
    key_id: str
    project_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def api(self) -> str:
        return f"/api/environments/{self.id}"


async def make_env(app, name: str, scopes: list[str] | None = None) -> Env:  # noqa: ANN001
    async with make_sessionmaker(app.state.engine)() as session:
        env = await env_store.create_environment(session=session, name=name)
        key_row, new = await env_store.create_api_key(
            session=session, environment_id=env.id, scopes=list(scopes or ALL_SCOPES)
        )
        await session.commit()
        return Env(str(env.id), env.name, new.key, str(key_row.id), env.project_token)


async def add_key(app, env: Env, scopes: list[str]) -> str:  # noqa: ANN001
    async with make_sessionmaker(app.state.engine)() as session:
        _, new = await env_store.create_api_key(session=session, environment_id=uuid.UUID(env.id), scopes=scopes)
        await session.commit()
        return new.key


@pytest.fixture
async def env_a(app) -> Env:  # noqa: ANN001
    return await make_env(app, "env-a")


@pytest.fixture
async def env_b(app) -> Env:  # noqa: ANN001
    return await make_env(app, "env-b")


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeLLMServer]:
    """The fake OpenAI/Anthropic-compatible server, in its own process, shared by a test module."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeLLMServer) -> FakeLLMServer:
    """The shared fake server with the default scenario and an empty request log."""
    fake_server.set_scenario(None)
    fake_server.reset()
    return fake_server


@pytest.fixture
async def registry():  # noqa: ANN201
    """A provider registry of the test's own, closed afterwards."""
    from assay.providers import ProviderRegistry

    reg = ProviderRegistry()
    yield reg
    await reg.aclose()


@contextmanager
def uvicorn_in_thread(app: FastAPI, *, start_timeout: float = 30, stop_timeout: float = 30) -> Iterator[str]:
    """Serve `app` with a real uvicorn (lifespan on) in a thread of its own; yields the base URL.

    Start-up and shutdown are both bounded, so a server that does not come up or go down fails the test
    instead of hanging it.
    """
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=stop_timeout)


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    """A real uvicorn server (own thread, own event loop, own engine) serving an app built from `settings`."""
    with uvicorn_in_thread(create_app(settings)) as url:
        yield url
