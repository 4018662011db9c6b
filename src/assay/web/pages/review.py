"""The review queue of a run: one result at a time, a score and a reason per result, undo, live agreement.

Without JavaScript every result is a plain form with next/previous links; with `static/js/review.js` the
keyboard drives it and saves go through fetch(), answered with JSON carrying the next panel's HTML.
With `mine=1` a reviewer sees only their share of the cases (`domain/review_shares.py`: dealt round-robin among
the environment's reviewers and admins). `p` (pass) sets the score to 100 and `f` (fail) to 0: a reviewer's pass is a full pass, whatever the run's
threshold, so the mean absolute error against a judge's 0/100 verdict stays a distance between verdicts.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from assay.domain.agreement import CASE, RunInfo, human_agreement
from assay.domain.review_shares import ReviewShare, share_of
from assay.domain.storable import storable_problem
from assay.errors import ResourceNotFound, ValidationFailed
from assay.services import reviews as review_service
from assay.services import runs as run_service
from assay.storage import analysis as analysis_store
from assay.storage import review_queue as queue_store
from assay.storage import users as user_store
from assay.storage.review_queue import QueueWindow, ReviewRun
from assay.web.auth import DbSession, User, WebUser
from assay.web.errors import mark_page
from assay.web.templating import render, templates

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

PASS_SCORE = 100.0
FAIL_SCORE = 0.0
GROUP_LABELS = {
    queue_store.FAILED: "judge failed it",
    queue_store.DISAGREEING: "repetitions disagree",
    queue_store.REST: "judge passed it",
}
ShowAll = Annotated[bool, Query(alias="all", description="Include reviewed results (default: skip them).")]
Mine = Annotated[bool, Query(description="Only this reviewer's share of the cases.")]


def page_url(run_id: uuid.UUID, result_id: uuid.UUID | None, show_all: bool, mine: bool = False) -> str:
    params: dict[str, str] = {}
    if result_id is not None:
        params["result"] = str(result_id)
    if show_all:
        params["all"] = "1"
    if mine:
        params["mine"] = "1"
    return f"/runs/{run_id}/review" + (f"?{urlencode(params)}" if params else "")


async def reviewer_share(session: DbSession, user: WebUser) -> tuple[ReviewShare | None, int]:
    """This user's share of review queues (None for keys and viewers) and how many reviewers share them."""
    reviewers = await user_store.reviewer_ids(session=session, environment_id=user.environment_id)
    return share_of(user.user_id, reviewers), len(reviewers)


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def run_agreement(session: DbSession, run: ReviewRun) -> dict[str, Any]:
    """Judge–human agreement of this run, per evaluator (the case score first): the API's `/agreement?task_id=`."""
    info = RunInfo(run_id=str(run.id), pass_threshold=run.pass_threshold, repetitions=run.repetitions)
    points = await analysis_store.review_points(session=session, run_ids=[str(run.id)], reviewed_only=True)
    human = human_agreement(points, {str(run.id): info})
    return dict(sorted(human.items(), key=lambda item: (item[0] != CASE, item[0])))


async def panel_context(
    session: DbSession,
    user: WebUser,
    run: ReviewRun,
    window: QueueWindow | None,
    show_all: bool,
    share: ReviewShare | None = None,
) -> dict[str, Any]:
    """Everything the review panel shows: the result, its neighbours, progress and agreement."""
    item = None
    if window is not None:
        item = await queue_store.queue_item(session=session, run=run, result_id=window.result_id)
    if share is not None:
        progress = await queue_store.share_progress(session=session, run=run, share=share)
    else:
        progress = await queue_store.review_progress(session=session, run_id=run.id)
    mine = share is not None
    previous = window.previous_id if window else None
    following = window.next_id if window else None
    return {
        "run": run,
        "item": item,
        "group_label": GROUP_LABELS.get(item.group, "") if item else "",
        "judges": [e for e in (item.result.evaluator_results or []) if isinstance(e, dict)] if item else [],
        "previous_url": page_url(run.id, previous, show_all, mine) if previous else None,
        "next_url": page_url(run.id, following, show_all, mine) if following else None,
        "next_result": following,
        "position": window.position if window else 0,
        "queue_size": window.size if window else 0,
        "progress": progress,
        "agreement": await run_agreement(session, run),
        "show_all": show_all,
        "mine": mine,
        "can_write": user.may_review,
        "is_person": user.user_id is not None,
        "pass_score": PASS_SCORE,
        "fail_score": FAIL_SCORE,
        "csrf_token": user.csrf_token,
    }


def render_panel(context: dict[str, Any]) -> str:
    return templates.get_template("_review_panel.html").render(**context)


async def load(
    session: DbSession,
    user: WebUser,
    run_id: uuid.UUID,
    result_id: uuid.UUID | None,
    show_all: bool,
    share: ReviewShare | None = None,
) -> tuple[ReviewRun, QueueWindow | None]:
    """The run and the place in its queue (of `share`'s cases, when given) of `result_id` (default: the first
    result to review), or 404."""
    user.require_read("evaluation")
    run = await queue_store.review_run(session=session, environment_id=user.environment_id, run_id=run_id)
    window = await queue_store.queue_window(
        session=session, run=run, result_id=result_id, skip_reviewed=not show_all, share=share
    )
    if result_id is not None and window is None:
        raise ResourceNotFound(f"Result {result_id} not found in this task")
    return run, window


@router.get("/runs/{run_id}/review")
async def review_page(
    request: Request,
    run_id: uuid.UUID,
    session: DbSession,
    user: User,
    result: Annotated[uuid.UUID | None, Query(description="The result to show.")] = None,
    show_all: ShowAll = False,
    mine: Mine = False,
) -> Response:
    """The queue at one result (default: the first one still to review)."""
    my_share, reviewers = await reviewer_share(session, user)
    share = my_share if mine else None
    run, window = await load(session, user, run_id, result, show_all, share)
    context = await panel_context(session, user, run, window, show_all, share)
    page = {key: value for key, value in context.items() if key != "csrf_token"}
    extra = {"my_share": my_share, "reviewers": reviewers}
    return render(request, "review.html", {**page, **extra, "panel": render_panel(context)})


@router.get("/runs/{run_id}/review/panel")
async def review_panel(
    run_id: uuid.UUID,
    session: DbSession,
    user: User,
    result: Annotated[uuid.UUID | None, Query()] = None,
    show_all: ShowAll = False,
    mine: Mine = False,
) -> JSONResponse:
    """The panel of one result as an HTML fragment in JSON, for moving through the queue without a reload."""
    share = (await reviewer_share(session, user))[0] if mine else None
    run, window = await load(session, user, run_id, result, show_all, share)
    context = await panel_context(session, user, run, window, show_all, share)
    url = page_url(run.id, result, show_all, share is not None)
    return JSONResponse({"html": render_panel(context), "url": url})


async def answer_after_change(
    request: Request,
    session: DbSession,
    user: WebUser,
    run: ReviewRun,
    show: uuid.UUID | None,
    show_all: bool,
    saved: dict[str, Any],
    share: ReviewShare | None = None,
) -> Response:
    """JSON (the panel of `show`) for fetch(), else a redirect to its page."""
    url = page_url(run.id, show, show_all, share is not None)
    if not wants_json(request):
        return RedirectResponse(url, status_code=303)
    window = await queue_store.queue_window(
        session=session, run=run, result_id=show, skip_reviewed=not show_all, share=share
    )
    context = await panel_context(session, user, run, window, show_all, share)
    return JSONResponse({"saved": saved, "html": render_panel(context), "url": url})


def saved_entry(result_id: uuid.UUID, overrides: list[Any]) -> dict[str, Any]:
    last = overrides[-1]
    return {
        "result_id": str(result_id),
        "score": last["score"],
        "previous_score": last["previous_score"],
        "reason": last["reason"],
        "by": last["by"],
    }


@router.post("/runs/{run_id}/review/{result_id}")
async def save_review(
    request: Request,
    run_id: uuid.UUID,
    result_id: uuid.UUID,
    session: DbSession,
    user: User,
    score: Annotated[float, Form(ge=0, le=100, allow_inf_nan=False)],
    reason: Annotated[str, Form(max_length=10_000)] = "",
    show_all: Annotated[bool, Form(alias="all")] = False,
    mine: Annotated[bool, Form()] = False,
) -> Response:
    """Store a reviewer's score (0–100) and reason as an override, then show the next result of the queue."""
    user.require_review()
    problem = storable_problem(reason)
    if problem is not None:
        raise ValidationFailed(f"reason: {problem[1]}", attr="reason")
    share = (await reviewer_share(session, user))[0] if mine else None
    run, window = await load(session, user, run_id, result_id, show_all, share)
    assert window is not None
    row = await run_service.override_result(
        session=session,
        environment_id=user.environment_id,
        suite_id=run.suite_id,
        result_id=result_id,
        score=score,
        reason=reason.strip() or None,
        by=user.who,
    )
    return await answer_after_change(
        request, session, user, run, window.next_id, show_all, saved_entry(row.id, list(row.overrides)), share
    )


@router.post("/runs/{run_id}/review/{result_id}/undo")
async def undo_review(
    request: Request,
    run_id: uuid.UUID,
    result_id: uuid.UUID,
    session: DbSession,
    user: User,
    show_all: Annotated[bool, Form(alias="all")] = False,
    mine: Annotated[bool, Form()] = False,
) -> Response:
    """Undo the latest standing override of a result (appending the way back) and show that result again."""
    user.require_review()
    share = (await reviewer_share(session, user))[0] if mine else None
    run, _ = await load(session, user, run_id, result_id, show_all=True)
    row = await review_service.undo_last_override(
        session=session, environment_id=user.environment_id, suite_id=run.suite_id, result_id=result_id, by=user.who
    )
    return await answer_after_change(
        request, session, user, run, row.id, show_all, saved_entry(row.id, list(row.overrides)), share
    )
