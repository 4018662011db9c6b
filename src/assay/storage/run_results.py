"""Writing a run's results in bulk, and reading the measures its summary is computed from."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Insert, Row, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.runs import CaseResult
from assay.domain.statuses import ResultStatus
from assay.storage.run_tables import ResultRow, RunRow
from assay.storage.types import utcnow

INSERT_CHUNK = 500


@dataclass(frozen=True, slots=True)
class StoredCount:
    """How many of the rows handed in were new (duplicates are skipped), and how many of those errored."""

    stored: int
    errors: int


def insert_ignoring_duplicates(session: AsyncSession) -> Insert:
    """An INSERT of result rows (executed with a list of them) that skips (run, case, repetition) already stored
    and returns the status of each row it did store.

    Executed with the rows as parameters, its compiled form is cached and SQLAlchemy batches the rows
    ("insertmanyvalues"): far cheaper than compiling a multi-row VALUES clause for every flush."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module = postgresql if dialect == "postgresql" else sqlite
    table = ResultRow.__table__
    statement: Insert = (
        module.insert(table)
        .on_conflict_do_nothing(index_elements=["run_id", "test_case_id", "repetition"])
        .returning(table.c.status)
    )
    return statement


async def store_results(
    *, session: AsyncSession, run_id: uuid.UUID, results: list[CaseResult], lease: timedelta
) -> StoredCount:
    """Insert the results (duplicates skipped), add the stored ones to the run's counts and extend its lease,
    in the session's transaction; the caller takes the write turn and commits."""
    return await store_result_rows(session=session, run_id=run_id, rows=[r.to_row() for r in results], lease=lease)


async def store_result_rows(
    *, session: AsyncSession, run_id: uuid.UUID, rows: list[dict[str, Any]], lease: timedelta
) -> StoredCount:
    """`store_results` for rows already in column form (bulk seeding stores overrides and other columns too).

    Only rows actually inserted are counted: a chunk that runs twice (a worker that died after storing part of
    it) must not count its stored cases again."""
    stored = errors = 0
    statement = insert_ignoring_duplicates(session)
    for start in range(0, len(rows), INSERT_CHUNK):
        statuses = (await session.execute(statement, rows[start : start + INSERT_CHUNK])).scalars().all()
        stored += len(statuses)
        errors += sum(1 for status in statuses if status == ResultStatus.ERROR.value)
    await session.execute(
        update(RunRow)
        .where(RunRow.id == run_id)
        .values(
            completed_cases=RunRow.completed_cases + stored,
            error_cases=RunRow.error_cases + errors,
            lease_until=utcnow() + lease,
        )
    )
    return StoredCount(stored=stored, errors=errors)


async def result_measures(
    *, session: AsyncSession, run_id: uuid.UUID
) -> Sequence[Row[str, float | None, float | None, int | None, int]]:
    """Every result's (status, score, latency_ms, tokens_used, judge_tokens), in one query."""
    query = select(
        ResultRow.status, ResultRow.score, ResultRow.latency_ms, ResultRow.tokens_used, ResultRow.judge_tokens
    ).where(ResultRow.run_id == run_id)
    return (await session.execute(query)).all()
