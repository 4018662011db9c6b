"""Engine and session factories for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",
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


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


_write_locks: dict[int, asyncio.Lock] = {}


def write_lock(session: AsyncSession) -> AbstractAsyncContextManager[Any]:
    """Serialise this process's bulk writes on SQLite (it has one writer at a time anyway).

    Without it, concurrent writers meet SQLite's busy handler, which sleeps and retries; taking turns
    in-process is several times faster. On PostgreSQL it is a no-op.
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return nullcontext()
    key = id(bind)
    lock = _write_locks.get(key)
    if lock is None:
        lock = _write_locks[key] = asyncio.Lock()
    return lock
