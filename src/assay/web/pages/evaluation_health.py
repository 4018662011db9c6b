"""One evaluation's health: runs over time by outcome (hourly for 48 hours or daily for 30 days), the failures
with their reasons (keyset-paginated), and "re-run failed", which queues manual runs of the failed events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from assay.charts import stacked_bars_svg
from assay.errors import ValidationFailed
from assay.services import evaluation_runs as run_service
from assay.storage import evaluation_run_series as series_store
from assay.storage import evaluation_runs as run_store
from assay.storage import evaluators as evaluator_store
from assay.web.auth import DbSession, User
from assay.web.errors import mark_page
from assay.web.pages.evaluations import parse_evaluation_id
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

FAILURES_PAGE = 25
RERUN_LIMIT = 200
SERIES = [("passed", "#2e9e5b"), ("failed", "#d64545"), ("N/A", "#9aa3b5"), ("errors", "#e3a008")]


@dataclass(frozen=True, slots=True)
class Window:
    """A chart range: how many buckets of which width, and how a bucket is labelled."""

    key: str
    label: str
    width: timedelta
    buckets: int
    label_format: str
    label_every: int

    def start(self, now: datetime) -> datetime:
        """The first bucket's start: whole hours (or days), ending with the current one."""
        floor = now.replace(minute=0, second=0, microsecond=0)
        if self.width >= timedelta(days=1):
            floor = floor.replace(hour=0)
        return floor - (self.buckets - 1) * self.width


WINDOWS = {
    "48h": Window("48h", "48 hours, by hour", timedelta(hours=1), 48, "%H:00", 6),
    "30d": Window("30d", "30 days, by day", timedelta(days=1), 30, "%b %d", 5),
}
RangeParam = Annotated[str, Query(alias="range", max_length=10, description="48h or 30d.")]


def parse_window(key: str) -> Window:
    """The chart range named by `key`; anything else is a 400."""
    window = WINDOWS.get(key)
    if window is None:
        raise ValidationFailed("range must be 48h or 30d.", attr="range")
    return window


def parse_cursor(raw: str | None) -> run_store.RunKey | None:
    """`<created_at ISO>|<workflow id>` of the last failure shown, or None for the first page."""
    if not raw:
        return None
    created, sep, workflow = raw.partition("|")
    try:
        when = datetime.fromisoformat(created)
    except ValueError:
        when = None
    if not sep or not workflow or when is None:
        raise ValidationFailed("Bad cursor.", attr="after")
    return (when if when.tzinfo else when.replace(tzinfo=UTC), workflow)


def failure_reason(run: Any) -> str:
    """Why the run failed: the error of an errored run, else the judge's or Hog's reasoning."""
    if run.error:
        return str(run.error)
    result = run.result if isinstance(run.result, dict) else {}
    return str(result.get("reasoning") or "")


@router.get("/evaluations/{evaluation_id}/health")
async def health_page(
    request: Request,
    evaluation_id: str,
    session: DbSession,
    user: User,
    range_key: RangeParam = "48h",
    after: Annotated[str | None, Query(max_length=400)] = None,
    queued: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """Runs over time by outcome, the failures with their reasons, and the re-run action."""
    user.require_read("evaluation")
    evaluator = await evaluator_store.get_evaluator(
        session=session, environment_id=user.environment_id, evaluator_id=parse_evaluation_id(evaluation_id)
    )
    window = parse_window(range_key)
    since = window.start(datetime.now(UTC))
    series = await series_store.outcome_series(
        session=session,
        environment_id=user.environment_id,
        evaluator_ids=[evaluator.id],
        since=since,
        width=window.width,
        buckets=window.buckets,
    )
    buckets = series[evaluator.id]
    bars = [
        (
            bucket.start.strftime(window.label_format),
            [bucket.counts.passed, bucket.counts.failed, bucket.counts.not_applicable, bucket.counts.errors],
        )
        for bucket in buckets
    ]
    totals = series_store.OutcomeCounts(
        *(sum(getattr(b.counts, name) for b in buckets) for name in ("passed", "failed", "not_applicable", "errors"))
    )
    failures, more = await run_store.list_runs(
        session=session,
        environment_id=user.environment_id,
        limit=FAILURES_PAGE,
        after=parse_cursor(after),
        evaluator_id=evaluator.id,
        failures_only=True,
        since=since,
    )
    last = failures[-1] if failures and more else None
    return render(
        request,
        "evaluation_health.html",
        {
            "evaluator": evaluator,
            "window": window,
            "windows": WINDOWS.values(),
            "totals": totals,
            "chart": stacked_bars_svg(
                bars,
                SERIES,
                title=f"Runs of {evaluator.name} over the last {window.label}",
                label_every=window.label_every,
                width=1100,
                height=220,
            ),
            "series": SERIES,
            "failures": [{"run": run, "reason": failure_reason(run)} for run in failures],
            "next_cursor": f"{last.created_at.isoformat()}|{last.workflow_id}" if last else None,
            "paged": after is not None,
            "queued": queued,
            "can_write": user.can_write("evaluation"),
        },
    )


@router.post("/evaluations/{evaluation_id}/rerun-failed")
async def rerun_failed(
    request: Request,
    evaluation_id: str,
    session: DbSession,
    user: User,
    range_key: Annotated[str, Form(alias="range", max_length=10)] = "48h",
) -> Response:
    """Queue manual runs for the events whose runs failed in the range (as `POST …/evaluation_runs` would)."""
    user.require_write("evaluation")
    evaluator_id = parse_evaluation_id(evaluation_id)
    window = parse_window(range_key)
    await evaluator_store.get_evaluator(session=session, environment_id=user.environment_id, evaluator_id=evaluator_id)
    online = getattr(request.app.state, "online", None)
    started = await run_service.rerun_failed(
        session=session,
        environment_id=user.environment_id,
        evaluation_id=evaluator_id,
        since=window.start(datetime.now(UTC)),
        limit=RERUN_LIMIT,
        notify=online.notify if online is not None else None,
    )
    query = urlencode({"range": range_key, "queued": len(started)})
    return RedirectResponse(f"/evaluations/{evaluator_id}/health?{query}", status_code=303)
