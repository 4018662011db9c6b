"""The suites page: every suite of the environment with its latest run and a pass-rate sparkline."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from assay.charts import sparkline_svg
from assay.storage.suite_overview import suite_overviews
from assay.web.auth import DbSession, User
from assay.web.errors import mark_page
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)


@router.get("/")
async def suites_page(request: Request, session: DbSession, user: User) -> Response:
    """Suites with instance, recipe, case count, latest run status, pass rate, mean score and a sparkline."""
    user.require_read("evaluation")
    overviews = await suite_overviews(session=session, environment_id=user.environment_id)
    rows = []
    for overview in overviews:
        latest = overview.runs[0] if overview.runs else None
        rates = [run.summary.get("pass_rate") for run in reversed(overview.runs)]
        rows.append(
            {
                "overview": overview,
                "latest": latest,
                "sparkline": sparkline_svg(rates, title=f"Pass rate over the last {len(rates)} runs"),
            }
        )
    return render(request, "suites.html", {"rows": rows})
