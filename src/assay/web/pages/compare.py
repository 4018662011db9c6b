"""The comparison page: a candidate run against a baseline run of one suite, with the API's statistics, and
one case's two responses side by side with a word diff."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from assay.charts import ci_chart_svg
from assay.domain.compare import verdict
from assay.domain.word_diff import word_diff_html
from assay.errors import ResourceNotFound
from assay.services.analysis import RunComparison, compare_suite_runs, default_pair
from assay.storage import suites as suite_store
from assay.storage.analysis import get_suite_run
from assay.storage.comparison_views import case_inputs, case_results, get_case, run_choices
from assay.web.auth import DbSession, User
from assay.web.errors import mark_page
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

PAGE_SIZE = 50
Show = Literal["all", "regressed", "improved", "unchanged", "unpaired"]
RunId = Annotated[uuid.UUID | None, Query(description="Task id of a run of the suite.")]


def case_rows(comparison: RunComparison, show: Show) -> list[dict[str, Any]]:
    """The cases the filter keeps, regressions first (largest drop first), then improvements, unchanged, unpaired."""
    body = comparison.body
    groups: dict[str, list[dict[str, Any]]] = {
        "regressed": [{**c, "kind": "regressed"} for c in body["regressed"]],
        "improved": [{**c, "kind": "improved"} for c in body["improved"]],
        "unchanged": [{**c, "kind": "unchanged"} for c in comparison.unchanged],
        "unpaired": [
            {"test_case_id": case_id, "kind": "unpaired", "why": why}
            for key, why in (("base_only", "only in base"), ("head_only", "only in head"), ("unscored", "no score"))
            for case_id in body["unpaired"][key]
        ],
    }
    if show != "all":
        return groups[show]
    return [row for name in ("regressed", "improved", "unchanged", "unpaired") for row in groups[name]]


def counts(comparison: RunComparison) -> dict[str, int]:
    """How many cases improved, regressed, stayed, or could not be paired."""
    unpaired = comparison.body["unpaired"]
    return {
        "improved": len(comparison.body["improved"]),
        "regressed": len(comparison.body["regressed"]),
        "unchanged": len(comparison.unchanged),
        "unpaired": sum(len(unpaired[k]) for k in ("base_only", "head_only", "unscored")),
    }


@router.get("/suites/{suite_id}/compare")
async def compare_page(
    request: Request,
    suite_id: uuid.UUID,
    session: DbSession,
    user: User,
    base: RunId = None,
    head: RunId = None,
    show: Show = "all",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """Headline statistics of head against base (defaults: the previous run against the latest) and the cases."""
    user.require_read("evaluation")
    suite = await suite_store.get_suite(session=session, environment_id=user.environment_id, suite_id=suite_id)
    choices = await run_choices(session=session, suite_id=suite.id)
    base, head = default_pair([c.id for c in choices], base, head)
    context: dict[str, Any] = {"suite": suite, "choices": choices, "base_id": base, "head_id": head, "show": show}
    if base is None or head is None:
        return render(request, "compare.html", {**context, "comparison": None})
    comparison = await compare_suite_runs(
        session=session, environment_id=user.environment_id, suite_id=suite.id, base_id=base, head_id=head
    )
    rows = case_rows(comparison, show)
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    inputs = await case_inputs(session=session, suite_id=suite.id, case_ids=[r["test_case_id"] for r in shown])
    score, noise = comparison.body["score"], comparison.noise
    return render(
        request,
        "compare.html",
        {
            **context,
            "comparison": comparison,
            "body": comparison.body,
            "verdict": verdict(comparison.body),
            "counts": counts(comparison),
            "rows": shown,
            "inputs": inputs,
            "page": page,
            "pages": pages,
            "total_rows": len(rows),
            "chart": ci_chart_svg(
                score["mean_difference"],
                score["ci_low"],
                score["ci_high"],
                band=noise["mean_band"] if noise else None,
            ),
        },
    )


@router.get("/suites/{suite_id}/compare/cases/{case_id}")
async def compare_case_page(
    request: Request,
    suite_id: uuid.UUID,
    case_id: uuid.UUID,
    session: DbSession,
    user: User,
    base: Annotated[uuid.UUID, Query(description="Task id of the baseline run.")],
    head: Annotated[uuid.UUID, Query(description="Task id of the compared run.")],
) -> Response:
    """One case in both runs: the responses side by side with a word diff, each run's score and reasons."""
    user.require_read("evaluation")
    suite = await suite_store.get_suite(session=session, environment_id=user.environment_id, suite_id=suite_id)
    runs = [
        await get_suite_run(session=session, environment_id=user.environment_id, suite_id=suite.id, run_id=i)
        for i in (base, head)
    ]
    base_results, head_results = [await case_results(session=session, run_id=run.id, case_id=case_id) for run in runs]
    case = await get_case(session=session, suite_id=suite.id, case_id=case_id)
    if case is None and not base_results and not head_results:
        raise ResourceNotFound("Test case not found in this evaluation")
    by_rep_base = {r.repetition: r for r in base_results}
    by_rep_head = {r.repetition: r for r in head_results}
    pairs = []
    for repetition in sorted(set(by_rep_base) | set(by_rep_head)):
        old, new = by_rep_base.get(repetition), by_rep_head.get(repetition)
        left, right = word_diff_html(
            (old.agent_response or "") if old else "", (new.agent_response or "") if new else ""
        )
        pairs.append({"repetition": repetition, "base": old, "head": new, "base_html": left, "head_html": right})
    return render(
        request,
        "compare_case.html",
        {
            "suite": suite,
            "case": case,
            "case_id": case_id,
            "base_run": runs[0],
            "head_run": runs[1],
            "pairs": pairs,
        },
    )
