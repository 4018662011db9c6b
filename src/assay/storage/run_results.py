"""Writing a run's results in bulk, and reading the measures its summary is computed from."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Insert, Row, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.runs import CaseResult
from assay.storage.run_tables import ResultRow, RunRow
from assay.storage.types import utcnow

INSERT_CHUNK = 500


def insert_ignoring_duplicates(session: AsyncSession) -> Insert:
    """An INSERT of result rows (executed with a list of them) that skips (run, case, repetition) already stored.

    Executed with the rows as parameters, its compiled form is cached and the driver batches the rows: far
    cheaper than compiling a multi-row VALUES clause for every flush."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module = postgresql if dialect == "postgresql" else sqlite
    statement: Insert = module.insert(ResultRow).on_conflict_do_nothing(
        index_elements=["run_id", "test_case_id", "repetition"]
    )
    return statement


async def store_results(
    *, session: AsyncSession, run_id: uuid.UUID, results: list[CaseResult], errors: int, lease: timedelta
) -> None:
    """Insert the results (duplicates skipped), count them (`errors` of them errored) on the run and
    extend its lease, in the session's transaction; the caller takes the write turn and commits."""
    await store_result_rows(
        session=session, run_id=run_id, rows=[r.to_row() for r in results], errors=errors, lease=lease
    )


async def store_result_rows(
    *, session: AsyncSession, run_id: uuid.UUID, rows: list[dict[str, Any]], errors: int, lease: timedelta
) -> None:
    """`store_results` for rows already in column form (bulk seeding stores overrides and other columns too)."""
    for start in range(0, len(rows), INSERT_CHUNK):
        await session.execute(insert_ignoring_duplicates(session), rows[start : start + INSERT_CHUNK])
    await session.execute(
        update(RunRow)
        .where(RunRow.id == run_id)
        .values(
            completed_cases=RunRow.completed_cases + len(rows),
            error_cases=RunRow.error_cases + errors,
            lease_until=utcnow() + lease,
        )
    )


async def result_measures(
    *, session: AsyncSession, run_id: uuid.UUID
) -> Sequence[Row[str, float | None, float | None, int | None, int]]:
    """Every result's (status, score, latency_ms, tokens_used, judge_tokens), in one query."""
    query = select(
        ResultRow.status, ResultRow.score, ResultRow.latency_ms, ResultRow.tokens_used, ResultRow.judge_tokens
    ).where(ResultRow.run_id == run_id)
    return (await session.execute(query)).all()
