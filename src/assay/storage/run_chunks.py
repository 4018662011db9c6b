"""A run split into chunk jobs (PostgreSQL dispatch): the chunks' rows, and ending the run exactly once.

The last chunk to end finishes the run: marking a chunk finished and counting the unfinished ones happen under
a row lock on the run, so two chunks ending at the same moment cannot both see "none left".
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.statuses import RunStatus
from assay.storage.queue_tables import RunChunkRow
from assay.storage.run_tables import ResultRow, RunRow
from assay.storage.types import utcnow

QUEUE_WORKER = "queue"
"""The `worker_id` of a run whose chunks are queue jobs (no single process holds it)."""


async def queued_run_ids(*, session: AsyncSession, limit: int) -> list[uuid.UUID]:
    """Up to `limit` queued runs, oldest first."""
    rows = await session.scalars(
        select(RunRow.id).where(RunRow.status == RunStatus.QUEUED).order_by(RunRow.created_at).limit(limit)
    )
    return list(rows)


async def plan_chunks(*, session: AsyncSession, run_id: uuid.UUID, pairs: int, chunk_size: int) -> list[int]:
    """Store the run's chunks (idempotent: planning twice keeps the first plan) and return their numbers.

    `pairs` is cases x repetitions; every chunk but the last holds `chunk_size` of them. The caller commits.
    """
    size = max(1, chunk_size)
    rows = [
        {"run_id": run_id, "chunk": n, "start": start, "stop": min(pairs, start + size)}
        for n, start in enumerate(range(0, pairs, size))
    ]
    if rows:
        await session.execute(postgresql.insert(RunChunkRow).on_conflict_do_nothing(), rows)
    return list(await session.scalars(select(RunChunkRow.chunk).where(RunChunkRow.run_id == run_id)))


async def mark_dispatched(*, session: AsyncSession, run_id: uuid.UUID) -> bool:
    """Move a queued run to `running` under the queue (no lease: its chunks are the queue's jobs)."""
    result = await session.execute(
        update(RunRow)
        .where(RunRow.id == run_id, RunRow.status == RunStatus.QUEUED)
        .values(status=RunStatus.RUNNING, worker_id=QUEUE_WORKER, lease_until=None)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


async def chunk_bounds(*, session: AsyncSession, run_id: uuid.UUID, chunk: int) -> tuple[int, int, bool] | None:
    """The chunk's `(start, stop, finished)`, or None when the run (or chunk) is gone."""
    row = await session.get(RunChunkRow, (run_id, chunk))
    return None if row is None else (row.start, row.stop, row.finished_at is not None)


async def run_is_over(*, session: AsyncSession, run_id: uuid.UUID) -> bool:
    """Whether the run already ended (completed, cancelled or failed) or is gone."""
    status = await session.scalar(select(RunRow.status).where(RunRow.id == run_id))
    return status is None or status not in (RunStatus.QUEUED, RunStatus.RUNNING)


async def end_chunk(*, session: AsyncSession, run_id: uuid.UUID, chunk: int) -> RunRow | None:
    """Mark the chunk finished; the run, locked, when this was its last unfinished chunk and it is not over yet.

    The caller then records the run's end in the same transaction and commits (which releases the lock).
    """
    await session.execute(
        update(RunChunkRow)
        .where(RunChunkRow.run_id == run_id, RunChunkRow.chunk == chunk, RunChunkRow.finished_at.is_(None))
        .values(finished_at=utcnow())
    )
    return await lock_run_if_done(session=session, run_id=run_id)


async def lock_run_if_done(*, session: AsyncSession, run_id: uuid.UUID) -> RunRow | None:
    """The run, locked FOR UPDATE, when none of its chunks is unfinished and it has not ended yet."""
    row = (
        await session.scalars(
            select(RunRow).where(RunRow.id == run_id).with_for_update().execution_options(populate_existing=True)
        )
    ).one_or_none()
    if row is None or row.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return None
    left = await session.scalar(
        select(func.count()).where(RunChunkRow.run_id == run_id, RunChunkRow.finished_at.is_(None))
    )
    return row if not left else None


async def lock_unfinished_run(*, session: AsyncSession, run_id: uuid.UUID) -> RunRow | None:
    """The run, locked FOR UPDATE, unless it has ended already (a chunk failing ends it at once)."""
    row = (
        await session.scalars(
            select(RunRow).where(RunRow.id == run_id).with_for_update().execution_options(populate_existing=True)
        )
    ).one_or_none()
    return row if row is not None and row.status in (RunStatus.QUEUED, RunStatus.RUNNING) else None


async def stored_keys_for_cases(
    *, session: AsyncSession, run_id: uuid.UUID, case_ids: list[uuid.UUID]
) -> set[tuple[str, int]]:
    """The (test case id, repetition) pairs of these cases that already have a result: what a chunk skips."""
    query = select(ResultRow.test_case_id, ResultRow.repetition).where(
        ResultRow.run_id == run_id, ResultRow.test_case_id.in_(case_ids)
    )
    return {(str(case_id), repetition) for case_id, repetition in (await session.execute(query)).all()}


async def chunk_progress(*, session: AsyncSession, run_id: uuid.UUID) -> tuple[int, int]:
    """(finished chunks, all chunks) of the run."""
    total = await session.scalar(select(func.count()).where(RunChunkRow.run_id == run_id)) or 0
    done = (
        await session.scalar(
            select(func.count()).where(RunChunkRow.run_id == run_id, RunChunkRow.finished_at.is_not(None))
        )
        or 0
    )
    return done, total
