"""The run page (summary, live progress, charts, the results table) and its progress stream (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from assay.charts import latency_buckets_chart, pass_rate_by_tag_chart, score_buckets_chart
from assay.domain.stats import mean_interval_from_moments
from assay.domain.statuses import FINISHED_RUN_STATUSES
from assay.engine.runs.summary import compute_summary
from assay.storage import runs as run_store
from assay.storage import suites as suite_store
from assay.storage.db import Session
from assay.storage.run_tables import RunRow
from assay.storage.types import utcnow
from assay.web.auth import DbSession, User
from assay.web.errors import mark_page
from assay.web.result_params import FILTER_PARAMS, RESULT_STATUSES, VERDICT_STATUSES, kept_params, table_query
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

SORT_COLUMNS = (
    ("input", "Input"),
    ("tags", "Tags"),
    ("repetition", "Rep."),
    ("status", "Status"),
    ("score", "Score"),
    ("latency", "Latency"),
    ("tokens", "Tokens"),
    ("judge_tokens", "Judge tokens"),
    ("response", "Response"),
    ("reason", "Reason"),
)
EVENT_INTERVAL_S = 0.5
KEEPALIVE_S = 15.0
MAX_STREAM_S = 3600.0


async def load_run(session: Session, user: Any, run_id: uuid.UUID) -> RunRow:
    """The run if it belongs to the user's environment (else the API's 404)."""
    user.require_read("evaluation")
    return await run_store.get_run(session=session, environment_id=user.environment_id, run_id=run_id)


async def run_summary(session: Session, run: RunRow) -> dict[str, Any]:
    """The stored summary of a finished run; a live one (the same computation) while it is queued or running."""
    if run.status in FINISHED_RUN_STATUSES and run.summary.get("total") is not None:
        return dict(run.summary)
    return await compute_summary(
        session,
        run.id,
        total_cases=run.total_cases,
        started_at=run.started_at,
        finished_at=run.finished_at or (utcnow() if run.started_at else None),
        concurrency=(run.summary or {}).get("concurrency"),
    )


@router.get("/runs/{run_id}")
async def run_page(request: Request, run_id: uuid.UUID, session: DbSession, user: User) -> Response:
    """Summary with live progress, charts, and the filtered, sorted, paged results table."""
    run = await load_run(session, user, run_id)
    query = table_query(request.query_params)
    suite = await suite_store.get_suite(session=session, environment_id=user.environment_id, suite_id=run.suite_id)
    summary = await run_summary(session, run)
    cache = request.app.state.run_aggregates
    aggregates = await cache.get(session, run)
    spread = aggregates.distributions
    page = await cache.page(session, run, query.flt, query.sort, query.cursor)
    kept = kept_params(request.query_params)
    filtered = any(request.query_params.get(name) for name in FILTER_PARAMS)
    context = {
        "run": run,
        "suite": suite,
        "summary": summary,
        "concurrency": summary.get("concurrency") or {},
        "finished": run.status in FINISHED_RUN_STATUSES,
        "ci": mean_interval_from_moments(spread.scored, spread.score_sum, spread.score_square_sum, bounds=(0.0, 100.0)),
        "charts": {
            "score": score_buckets_chart(spread.score_buckets),
            "latency": latency_buckets_chart(spread.latency_edges, spread.latency_buckets),
            "tags": pass_rate_by_tag_chart(spread.tag_rates),
        },
        "tags": [t for t, _, _ in spread.tag_rates],
        "evaluators": aggregates.evaluators,
        "statuses": RESULT_STATUSES,
        "verdicts": VERDICT_STATUSES,
        "params": {name: request.query_params.get(name, "") for name in FILTER_PARAMS},
        "sort": query.sort.token,
        "columns": SORT_COLUMNS,
        "page": page,
        "view_query": urlencode(kept),
        "filtered": filtered,
        "filter_query": urlencode(kept_params(request.query_params, with_sort=False)),
        "can_write": user.can_write("evaluation"),
    }
    return render(request, "run.html", context)


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get("/runs/{run_id}/events")
async def run_events(request: Request, run_id: uuid.UUID, session: DbSession, user: User) -> Response:
    """Progress while the run goes on (`progress` events: status and counts), then one `end` event and the end."""
    await load_run(session, user, run_id)
    await session.close()  # the stream opens a short session per reading, never holding one while it waits
    sessionmaker = request.app.state.sessionmaker

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        started = last_sent = loop.time()
        previous: dict[str, Any] | None = None
        yield "retry: 2000\n\n"
        while True:
            async with sessionmaker() as reading:
                state = await run_store.run_state(session=reading, run_id=run_id)
            if state is None:
                yield _event("end", {"status": "deleted"})
                return
            status, completed, errors, total = state
            data = {"status": status, "completed": completed, "errors": errors, "total": total}
            if data != previous:
                yield _event("progress", data)
                previous, last_sent = data, loop.time()
            if status in FINISHED_RUN_STATUSES:
                yield _event("end", data)
                return
            now = loop.time()
            if now - started > MAX_STREAM_S or await request.is_disconnected():
                return
            if now - last_sent > KEEPALIVE_S:
                yield ": keep-alive\n\n"
                last_sent = now
            await asyncio.sleep(EVENT_INTERVAL_S)

    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
