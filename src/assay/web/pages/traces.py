"""One trace: all events of an `$ai_trace_id` as a tree and a timeline, with per-node latency and tokens and the
evaluations of each generation."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from assay.charts import trace_timeline_svg
from assay.domain.ai_events import GENERATION, SPAN, TRACE
from assay.domain.trace_tree import TraceEvent, TraceNode, build_tree, flatten
from assay.errors import ResourceNotFound
from assay.storage import event_pages
from assay.web.auth import DbSession, User
from assay.web.errors import mark_page
from assay.web.pages.event_detail import verdict_view
from assay.web.pages.events import require_events
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

MAX_TRACE_EVENTS = 5000
KINDS = {GENERATION: "generation", SPAN: "span", TRACE: "trace"}


def _kind(node: TraceNode) -> str:
    return "error" if node.figures.is_error else KINDS.get(node.event, "other")


@router.get("/traces/{trace_id}")
async def trace_page(request: Request, trace_id: str, session: DbSession, user: User) -> Response:
    """The trace's tree, timeline and evaluations (another environment's trace is a 404)."""
    require_events(user)
    rows = await event_pages.trace_events(
        session=session, environment_id=user.environment_id, trace_id=trace_id, limit=MAX_TRACE_EVENTS
    )
    if not rows:
        raise ResourceNotFound("Not found.")
    roots = build_tree(trace_id, [TraceEvent(str(r.uuid), r.event, r.timestamp, r.properties or {}) for r in rows])
    nodes = flatten(roots)
    generations = [n.uuid for n in nodes if n.event == GENERATION]
    verdicts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in await event_pages.evaluations_of(
        session=session, environment_id=user.environment_id, target_ids=generations, trace_id=trace_id
    ):
        view = verdict_view(row)
        verdicts[str(view["props"].get("$ai_target_event_id"))].append(view)
    t0 = min(n.start for n in nodes)
    t1 = max(n.timestamp for n in nodes)
    timeline = trace_timeline_svg(
        [
            (n.name, n.depth, _kind(n), (n.start - t0).total_seconds(), (n.timestamp - n.start).total_seconds())
            for n in nodes
        ],
        total_s=(t1 - t0).total_seconds(),
    )
    totals = {
        "events": len(nodes),
        "generations": len(generations),
        "input_tokens": sum(n.figures.input_tokens or 0 for n in nodes if n.event == GENERATION),
        "output_tokens": sum(n.figures.output_tokens or 0 for n in nodes if n.event == GENERATION),
        "cost_usd": sum(n.figures.cost_usd or 0 for n in nodes),
        "duration_s": (t1 - t0).total_seconds(),
    }
    context = {
        "trace_id": trace_id,
        "roots": roots,
        "verdicts": verdicts,
        "timeline": Markup(timeline),  # built by charts.py, every label escaped there
        "totals": totals,
        "truncated": len(rows) >= MAX_TRACE_EVENTS,
        "started": t0,
    }
    return render(request, "trace.html", context)
