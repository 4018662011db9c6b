"""One result of a run: input, response, the conversation turn by turn, tool calls expected vs made, every verdict,
overrides; and the override form."""

from __future__ import annotations

import math
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from assay.domain.tool_call_diff import pair_tool_calls
from assay.errors import ResourceNotFound, ValidationFailed
from assay.services.runs import override_result
from assay.storage import result_queries
from assay.storage import suites as suite_store
from assay.web.auth import DbSession, User
from assay.web.errors import mark_page
from assay.web.pages.runs import load_run
from assay.web.result_params import kept_params, table_query
from assay.web.templating import render
from assay.web.transcript_view import transcript_view

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)
MAX_REASON = 10_000


@router.get("/runs/{run_id}/results/{result_id}")
async def result_page(
    request: Request, run_id: uuid.UUID, result_id: uuid.UUID, session: DbSession, user: User
) -> Response:
    """Everything about one result, with links to its neighbours in the table's filter and order."""
    run = await load_run(session, user, run_id)
    found = await result_queries.get_run_result(session=session, run_id=run.id, result_id=result_id)
    if found is None:
        raise ResourceNotFound("Result not found")
    query = table_query(request.query_params)
    previous_id, next_id = await result_queries.neighbours(
        session=session, run_id=run.id, result_id=result_id, flt=query.flt, sort=query.sort
    )
    case = await result_queries.snapshot_case(session=session, run_id=run.id, case_id=found.row.test_case_id)
    suite = await suite_store.get_suite(session=session, environment_id=user.environment_id, suite_id=run.suite_id)
    view_query = urlencode(kept_params(request.query_params))
    row = found.row
    context: dict[str, Any] = {
        "run": run,
        "suite": suite,
        "result": row,
        "input_message": (case or {}).get("input_message", found.input_message),
        "expected_behavior": (case or {}).get("expected_behavior"),
        "tags": (case or {}).get("tags") or found.tags,
        "case_from_snapshot": case is not None,
        "tool_calls": pair_tool_calls((case or {}).get("expected_tool_calls"), row.tool_calls_made),
        "expects_tool_calls": bool((case or {}).get("expected_tool_calls")),
        "verdicts": [v for v in row.evaluator_results or [] if isinstance(v, dict)],
        "overrides": list(reversed(row.overrides or [])),
        "previous_id": previous_id,
        "next_id": next_id,
        "view_query": view_query,
        "can_write": user.may_review,
        "saved": request.query_params.get("saved") == "1",
        "convo": transcript_view(row.transcript),
    }
    return render(request, "result.html", context)


def _form_score(value: Any) -> float:
    try:
        score = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("score must be a number from 0 to 100", attr="score") from exc
    if not math.isfinite(score) or not 0 <= score <= 100:
        raise ValidationFailed("score must be a number from 0 to 100", attr="score")
    return score


@router.post("/runs/{run_id}/results/{result_id}/override")
async def override(
    request: Request, run_id: uuid.UUID, result_id: uuid.UUID, session: DbSession, user: User
) -> Response:
    """Set the result's score by hand (the form of the detail view); back to the result afterwards."""
    user.require_review()
    run = await load_run(session, user, run_id)
    form = await request.form()
    score = _form_score(form.get("score"))
    reason_field = form.get("reason")
    reason = reason_field.strip() if isinstance(reason_field, str) and reason_field.strip() else None
    if reason is not None and (len(reason) > MAX_REASON or "\x00" in reason):
        raise ValidationFailed(f"the reason must be at most {MAX_REASON} characters of text", attr="reason")
    if await result_queries.get_run_result(session=session, run_id=run.id, result_id=result_id) is None:
        raise ResourceNotFound("Result not found")
    await override_result(
        session=session,
        environment_id=user.environment_id,
        suite_id=run.suite_id,
        result_id=result_id,
        score=score,
        reason=reason,
        by=user.who,
    )
    back = form.get("back")
    query = urlencode(kept_params(dict(parse_qsl(back)))) if isinstance(back, str) else ""
    target = f"/runs/{run.id}/results/{result_id}?" + (query + "&" if query else "") + "saved=1"
    return RedirectResponse(target, status_code=303)
