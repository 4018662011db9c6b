"""SQLite writers take turns (`storage.db.write_lock`) without deadlocking against the connection pool."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from assay.storage.db import write_lock


@pytest.fixture
async def one_connection(tmp_path: Path) -> AsyncEngine:
    """A SQLite engine whose pool holds a single connection (a full pool, as under heavy load)."""
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", pool_size=1, max_overflow=0, pool_timeout=3
    )
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    await engine.dispose()


async def test_a_session_holding_a_connection_hands_it_back_before_waiting(one_connection: AsyncEngine) -> None:
    """The holder of the turn waits for the pool's only connection, held by a request that wants the turn.

    The request must give its connection back before it waits; otherwise both wait until the pool times out.
    """
    sessions = async_sessionmaker(one_connection, expire_on_commit=False)
    in_turn = asyncio.Event()

    async def scheduler() -> None:  # takes the turn first, then checks out a connection
        async with sessions() as session, write_lock(session):
            in_turn.set()
            await asyncio.sleep(0.05)
            await session.execute(text("INSERT INTO t VALUES (1)"))
            await session.commit()

    async with sessions() as request:
        assert await request.scalar(text("SELECT count(*) FROM t")) == 0  # holds the only connection
        task = asyncio.create_task(scheduler())
        await in_turn.wait()
        async with asyncio.timeout(2), write_lock(request):
            await request.execute(text("INSERT INTO t VALUES (2)"))
            await request.commit()
        await asyncio.wait_for(task, 2)
        assert await request.scalar(text("SELECT group_concat(n) FROM (SELECT n FROM t ORDER BY rowid)")) == "1,2"


async def test_a_free_turn_is_taken_without_giving_up_the_transaction(one_connection: AsyncEngine) -> None:
    sessions = async_sessionmaker(one_connection, expire_on_commit=False)
    async with sessions() as session:
        await session.execute(text("INSERT INTO t VALUES (1)"))
        async with write_lock(session):
            assert session.in_transaction()  # nobody waited: nothing was committed early
            await session.rollback()
        assert await session.scalar(text("SELECT count(*) FROM t")) == 0


async def test_turns_are_taken_one_at_a_time(one_connection: AsyncEngine) -> None:
    sessions = async_sessionmaker(one_connection, expire_on_commit=False)
    inside = 0
    most = 0

    async def writer(n: int) -> None:
        nonlocal inside, most
        async with sessions() as session, write_lock(session):
            inside += 1
            most = max(most, inside)
            await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            await session.commit()
            inside -= 1

    await asyncio.wait_for(asyncio.gather(*(writer(n) for n in range(20))), 10)
    assert most == 1
    async with sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM t")) == 20
