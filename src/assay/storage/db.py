"""Engine and session factories for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import orjson
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

Session: TypeAlias = AsyncSession
"""A database session, for modules above storage that pass one along (they import no SQLAlchemy)."""
SessionFactory: TypeAlias = async_sessionmaker[AsyncSession]
"""What opens sessions: `async with factory() as session`."""
DatabaseEngine: TypeAlias = AsyncEngine
"""The process's connection pool to the database (`make_engine`)."""

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-8192",
)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def dump_json(value: Any) -> str:
    """JSON for JSON columns: orjson (several times faster), falling back to the standard library for
    what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


_LONG_NUMBER = re.compile(r"\d{19}")


def load_json(text: str | bytes | float) -> Any:
    """JSON from JSON columns: orjson, except where a 19+ digit number would lose precision in it."""
    if isinstance(text, int | float):  # SQLite's numeric affinity hands back a stored scalar as a number
        return text
    if _LONG_NUMBER.search(text if isinstance(text, str) else text.decode()):
        return json.loads(text)
    return orjson.loads(text)


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """Create the async engine; on SQLite, every connection gets WAL and the other pragmas."""
    kwargs: dict[str, Any] = {"echo": echo, "json_serializer": dump_json, "json_deserializer": load_json}
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    return engine


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(*, session: AsyncSession) -> None:
    """Round-trip the database (`SELECT 1`); raises whatever the driver raises when it does not answer."""
    await session.execute(text("SELECT 1"))


class _WriteTurns:
    """One SQLite database's write turns in this process: a lock that knows whether anyone holds or awaits it."""

    __slots__ = ("_lock", "_wanted")

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._wanted = 0

    @property
    def free(self) -> bool:
        """Nobody holds or awaits the turn: taking it now does not wait."""
        return self._wanted == 0

    async def __aenter__(self) -> None:
        self._wanted += 1
        try:
            await self._lock.acquire()
        except BaseException:
            self._wanted -= 1
            raise

    async def __aexit__(self, *_exc: object) -> None:
        self._lock.release()
        self._wanted -= 1


_write_turns: weakref.WeakKeyDictionary[Engine, _WriteTurns] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def write_lock(session: AsyncSession) -> AsyncIterator[None]:
    """Take this process's turn to write to the session's SQLite database; every SQLite bulk writer uses it.

    SQLite has one writer at a time anyway; taking turns in-process is several times faster than meeting
    its busy handler. On PostgreSQL it is a no-op.

    The rule that keeps the turn and the connection pool from deadlocking: never wait for the turn while
    holding a pooled connection. The holder of the turn may itself be waiting for a connection (it checks
    one out on its first statement, after taking the turn), so a session that already holds one (a request
    that has read something) hands it back first by committing what it holds, then waits; its next
    statement checks out a connection inside the turn. When the turn is free it is taken without waiting
    and the session keeps its connection.
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    turns = _write_turns.get(bind)
    if turns is None:
        turns = _write_turns[bind] = _WriteTurns()
    if not turns.free and session.in_transaction():
        await session.commit()
    async with turns:
        yield
