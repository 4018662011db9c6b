"""Running suites: start a run, cancel it, override a result's score.

Each function takes plain arguments and a session, raises `assay.errors` types and commits its own work.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from assay.domain.statuses import ResultStatus
from assay.engine.runs.snapshot import build_snapshot
from assay.engine.runs.summary import compute_summary
from assay.settings import Settings
from assay.storage import run_execution
from assay.storage import runs as run_store
from assay.storage import suites as suite_store
from assay.storage.db import Session
from assay.storage.run_tables import ResultRow, RunRow
from assay.storage.types import utcnow


async def start_run(
    *,
    session: Session,
    environment_id: uuid.UUID,
    suite_id: uuid.UUID,
    settings: Settings,
    notify: Callable[[], None] | None = None,
    repetitions: int | None = None,
    concurrency: int | None = None,
    started_by: str | None = None,
) -> RunRow:
    """Snapshot the suite and store a queued run of it; `notify` (e.g. the dispatcher's) is called after the commit.

    `repetitions` and `concurrency`, when given, replace the suite's own for this run; `started_by` records who
    started it (an API key's id). Raises `ResourceNotFound` for an unknown suite and `ValidationFailed` when the
    snapshot cannot be built.
    """
    suite = await suite_store.get_suite(session=session, environment_id=environment_id, suite_id=suite_id)
    snapshot = await build_snapshot(
        session=session, suite=suite, settings=settings, repetitions=repetitions, concurrency=concurrency
    )
    row = await run_store.create_run(
        session=session,
        environment_id=suite.environment_id,
        suite_id=suite.id,
        snapshot=snapshot,
        started_by=started_by,
    )
    await run_execution.refresh_suite(session=session, suite_id=suite.id)
    await session.commit()
    if notify is not None:
        notify()
    return row


async def cancel_run(*, session: Session, environment_id: uuid.UUID, run_id: uuid.UUID) -> RunRow:
    """Cancel a run: a queued one at once, a running one after the cases in flight."""
    row = await run_store.get_run(session=session, environment_id=environment_id, run_id=run_id)
    row = await run_store.request_cancel(session=session, row=row)
    await run_execution.refresh_suite(session=session, suite_id=row.suite_id)
    await session.commit()
    return row


async def override_result(
    *,
    session: Session,
    environment_id: uuid.UUID,
    suite_id: uuid.UUID,
    result_id: uuid.UUID,
    score: float,
    reason: str | None,
    by: str,
) -> ResultRow:
    """Set a result's score by hand (the original score and every change are kept) and refresh the summaries.

    The status follows the run's pass threshold; `by` names who overrode it.
    """
    suite = await suite_store.get_suite(session=session, environment_id=environment_id, suite_id=suite_id)
    row = await run_store.get_result(session=session, suite_id=suite.id, result_id=result_id)
    entry = {
        "score": score,
        "previous_score": row.score,
        "previous_reason": row.score_reason,
        "reason": reason,
        "by": by,
        "at": utcnow().isoformat(),
    }
    return await apply_override_entry(session=session, row=row, entry=entry, reason=reason)


async def apply_override_entry(
    *, session: Session, row: ResultRow, entry: dict[str, Any], reason: str | None
) -> ResultRow:
    """Append an override entry to a result (its `score` becomes the result's, the status follows the run's pass
    threshold; `reason`, when given, becomes the result's reason), refresh the run's and suite's summaries, commit.
    """
    run, snapshot = await run_store.get_run_with_snapshot(session=session, run_id=row.run_id)
    threshold = snapshot.recipe.pass_threshold
    status = ResultStatus.PASSED if entry["score"] >= threshold else ResultStatus.FAILED
    await run_store.record_override(session=session, row=row, entry=entry, status=status, reason=reason)
    summary = await compute_summary(
        session,
        run.id,
        total_cases=run.total_cases,
        started_at=run.started_at,
        finished_at=run.finished_at,
        concurrency=(run.summary or {}).get("concurrency"),
    )
    await run_store.set_summary(session=session, row=run, summary=summary)
    await run_execution.refresh_suite(session=session, suite_id=row.suite_id)
    await session.commit()
    await session.refresh(row)
    return row
