"""A run's summary, computed with one query over its results (never per case)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from assay.domain.statuses import ResultStatus
from assay.storage.db import Session
from assay.storage.run_results import result_measures


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = (len(sorted_values) - 1) * q
    low = int(index)
    high = min(low + 1, len(sorted_values) - 1)
    return round(sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (index - low), 2)


async def compute_summary(
    session: Session,
    run_id: uuid.UUID,
    *,
    total_cases: int,
    started_at: datetime | None,
    finished_at: datetime | None,
    concurrency: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Counts by status, pass rate, mean score, latency p50/p95, tokens, judge tokens, duration.

    `mean_score` is over the results that were scored (`scored`: passed or failed with a score); an
    errored result never counts toward it, even one stored with a partial score, and is counted apart in
    `error`. `pass_rate` is passed / (passed + failed + error): an error is not a pass. `concurrency` (the
    run's effective limit, see `snapshot.concurrency_limits`) is carried into the summary when given.
    """
    rows = await result_measures(session=session, run_id=run_id)
    counts: dict[str, int] = {}
    scores: list[float] = []
    latencies: list[float] = []
    tokens = 0
    judge_tokens = 0
    for status, score, latency, used, judged in rows:
        counts[status] = counts.get(status, 0) + 1
        if score is not None and status in (ResultStatus.PASSED, ResultStatus.FAILED):
            scores.append(score)
        if latency is not None:
            latencies.append(latency)
        tokens += used or 0
        judge_tokens += judged or 0
    latencies.sort()
    done = len(rows)
    passed, failed, errors = (counts.get(s, 0) for s in (ResultStatus.PASSED, ResultStatus.FAILED, ResultStatus.ERROR))
    graded = passed + failed + errors
    duration = (finished_at - started_at).total_seconds() if started_at and finished_at else None
    summary: dict[str, Any] = {
        "total": total_cases,
        "completed": done,
        "passed": passed,
        "failed": failed,
        "error": errors,
        "unscored": counts.get(ResultStatus.UNSCORED, 0),
        "scored": len(scores),
        "pass_rate": round(passed / graded, 4) if graded else None,
        "mean_score": round(sum(scores) / len(scores), 2) if scores else None,
        "latency_p50_ms": _percentile(latencies, 0.5),
        "latency_p95_ms": _percentile(latencies, 0.95),
        "tokens_used": tokens,
        "judge_tokens": judge_tokens,
        "duration_s": round(duration, 3) if duration is not None else None,
    }
    if concurrency:
        summary["concurrency"] = concurrency
    return summary
