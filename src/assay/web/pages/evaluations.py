"""The online evaluations list: each evaluation with its enabled toggle, type, conditions, sampling and the
last 24 hours' outcomes with an hourly pass-rate sparkline. The toggle saves through the evaluations service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from assay.charts import sparkline_svg
from assay.errors import ResourceNotFound
from assay.services import evaluations as evaluation_service
from assay.storage import evaluation_run_series as series_store
from assay.storage import evaluators as evaluator_store
from assay.web.auth import DbSession, User
from assay.web.errors import mark_page
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

PAGE_SIZE = 50
WINDOW_HOURS = 24
TYPE_LABELS = {"llm_judge": "LLM judge", "hog": "Hog", "python": "Python"}


def parse_evaluation_id(value: str) -> uuid.UUID:
    """An evaluation id from a URL; anything else is not found, as in the API."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ResourceNotFound("Not found.") from None


def describe_filter(filt: dict[str, Any]) -> str:
    """One property filter as `key operator value`."""
    value = filt.get("value")
    shown = ", ".join(str(v) for v in value) if isinstance(value, list) else ("" if value is None else str(value))
    return " ".join(part for part in (str(filt.get("key", "?")), str(filt.get("operator") or "exact"), shown) if part)


def conditions_summary(conditions: list[Any]) -> list[str]:
    """One line per condition set: its property filters joined by AND, or "every generation"."""
    lines = []
    for condition in conditions:
        if not isinstance(condition, dict):
            continue
        filters = [describe_filter(f) for f in condition.get("properties") or [] if isinstance(f, dict)]
        lines.append(" AND ".join(filters) if filters else "every generation")
    return lines


def sampling_summary(conditions: list[Any]) -> str:
    """The rollout percentage of each condition set (100 when unset), e.g. "50%, 100%"; "–" without conditions."""
    values = []
    for condition in conditions:
        if isinstance(condition, dict):
            pct = condition.get("rollout_percentage")
            values.append(f"{100 if pct is None else pct:g}%")
    return ", ".join(values) if values else "–"


def window_start(now: datetime, hours: int) -> datetime:
    """The start of the hourly window that ends with the current hour."""
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)


@router.get("/evaluations")
async def evaluations_page(
    request: Request,
    session: DbSession,
    user: User,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The environment's evaluations, newest first, with the last 24 hours' outcomes."""
    user.require_read("evaluation")
    count, evaluators = await evaluator_store.list_evaluators(
        session=session, environment_id=user.environment_id, limit=PAGE_SIZE, offset=offset
    )
    ids = [row.id for row in evaluators]
    now = datetime.now(UTC)
    totals = await series_store.outcome_totals(
        session=session,
        environment_id=user.environment_id,
        evaluator_ids=ids,
        since=now - timedelta(hours=WINDOW_HOURS),
    )
    series = await series_store.outcome_series(
        session=session,
        environment_id=user.environment_id,
        evaluator_ids=ids,
        since=window_start(now, WINDOW_HOURS),
        width=timedelta(hours=1),
        buckets=WINDOW_HOURS,
    )
    rows = [
        {
            "evaluator": row,
            "type_label": TYPE_LABELS.get(row.evaluation_type, row.evaluation_type),
            "conditions": conditions_summary(row.conditions or []),
            "sampling": sampling_summary(row.conditions or []),
            "counts": totals.get(row.id, series_store.OutcomeCounts()),
            "sparkline": sparkline_svg(
                [bucket.counts.pass_rate for bucket in series[row.id]],
                title=f"Hourly pass rate of {row.name} over the last {WINDOW_HOURS} hours",
            ),
        }
        for row in evaluators
    ]
    return render(
        request,
        "evaluations.html",
        {
            "rows": rows,
            "count": count,
            "offset": offset,
            "page_size": PAGE_SIZE,
            "window_hours": WINDOW_HOURS,
            "can_write": user.can_write("evaluation"),
        },
    )


@router.post("/evaluations/{evaluation_id}/enabled")
async def set_enabled(
    evaluation_id: str,
    session: DbSession,
    user: User,
    enabled: Annotated[bool, Form()],
    next_url: Annotated[str, Form(alias="next")] = "/evaluations",
) -> Response:
    """Turn the evaluation's online runs on or off (what the API's `PATCH {"enabled": …}` does)."""
    user.require_write("evaluation")
    await evaluation_service.set_enabled(
        session=session,
        environment_id=user.environment_id,
        evaluation_id=parse_evaluation_id(evaluation_id),
        enabled=enabled,
    )
    target = next_url if next_url.startswith("/") and not next_url.startswith("//") else "/evaluations"
    return RedirectResponse(target, status_code=303)
