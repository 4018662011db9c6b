"""The events page: a searchable, keyset-paginated history of `$ai_*` events and its live tail (Server-Sent Events).

Reading events needs `event:read` or `evaluation:read`, as the events API does.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from assay.domain.ai_events import AI_EVENT_NAMES, GENERATION
from assay.domain.transcript import event_figures
from assay.errors import AuthError, ValidationFailed
from assay.storage import event_pages as store
from assay.storage.event_tables import EventRow
from assay.storage.events import EventFilter
from assay.web.auth import DbSession, User, WebUser
from assay.web.errors import mark_page
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

EVENTS_PER_PAGE = 50
TAIL_INTERVAL_S = 0.5
TAIL_BATCH = 100
"""At most this many new events per poll: under a flood the tail shows the newest and never falls behind, and
counts the rest (`arrived`), so a person sees how many came without the page receiving each one."""
KEEPALIVE_S = 15.0
MAX_STREAM_S = 3600.0
ANY_AI_EVENT = "any"
FILTER_PARAMS = ("event", "model", "provider", "distinct_id", "trace_id", "after", "before", "property")
_PROPERTY_KEY = re.compile(r"^[\w$.:\- ]{1,200}$")
EVENT_CHOICES = (GENERATION, *sorted(AI_EVENT_NAMES - {GENERATION}))


def require_events(user: WebUser) -> None:
    """Events are readable with `event:read` or `evaluation:read` (the events API's rule)."""
    if not (user.can_read("event") or user.can_read("evaluation")):
        raise AuthError(
            "API key missing required scope 'event:read' or 'evaluation:read'",
            status_code=403,
            code="permission_denied",
        )


def _time(raw: str, name: str) -> datetime | None:
    if not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            f"{name}: not a date and time (use ISO 8601, e.g. 2026-01-31T12:00)", attr=name
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def event_filter(params: Any) -> EventFilter:
    """The page's filters from its query parameters (`ValidationFailed` names a bad one)."""

    def text(name: str) -> str | None:
        value = (params.get(name) or "").strip()
        if len(value) > 500:
            raise ValidationFailed(f"{name}: at most 500 characters", attr=name)
        return value or None

    event = text("event") or GENERATION
    key = value = None
    prop = text("property")
    if prop is not None:
        key, sep, value = (part.strip() for part in prop.partition("="))
        if not sep or not _PROPERTY_KEY.match(key):
            raise ValidationFailed("property: write it as key=value (e.g. $ai_model=gpt-4o)", attr="property")
    return EventFilter(
        event=None if event == ANY_AI_EVENT else event,
        event_prefix="$ai_" if event == ANY_AI_EVENT else None,
        model=text("model"),
        provider=text("provider"),
        distinct_id=text("distinct_id"),
        trace_id=text("trace_id"),
        after=_time(params.get("after") or "", "after"),
        before=_time(params.get("before") or "", "before"),
        property_key=key,
        property_value=value,
    )


def _seq(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationFailed(f"{name}: not a position in this list", attr=name)
    return int(raw)


def event_row(row: EventRow) -> dict[str, Any]:
    """What a list row shows of an event (also the live tail's JSON)."""
    figures = event_figures(row.properties or {})
    return {
        "seq": row.seq,
        "uuid": str(row.uuid),
        "event": row.event,
        "timestamp": row.timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "distinct_id": row.distinct_id,
        "trace_id": row.trace_id,
        "model": figures.model,
        "provider": figures.provider,
        "tokens": figures.total_tokens,
        "latency_s": figures.latency_s,
        "cost_usd": figures.cost_usd,
        "is_error": figures.is_error,
    }


def _kept(request: Request) -> dict[str, str]:
    return {name: request.query_params[name] for name in FILTER_PARAMS if request.query_params.get(name)}


@router.get("/events")
async def events_page(request: Request, session: DbSession, user: User) -> Response:
    """The newest matching events first, 50 a page; the live tail adds new ones at the top."""
    require_events(user)
    filters = event_filter(request.query_params)
    cursor = _seq(request.query_params.get("cursor"), "cursor")
    page = await store.page_events(
        session=session,
        environment_id=user.environment_id,
        filters=filters,
        before_seq=cursor,
        limit=EVENTS_PER_PAGE,
        window=store.SCAN_WINDOW,
    )
    top = page.events[0].seq if page.events else None
    since = (
        top
        if top is not None and cursor is None
        else await store.latest_seq(session=session, environment_id=user.environment_id)
    )
    kept = _kept(request)
    context = {
        "rows": [event_row(r) for r in page.events],
        "next_cursor": page.next_cursor,
        "searched_to": page.searched_to,
        "scan_window": store.SCAN_WINDOW,
        "paged": cursor is not None,
        "params": {name: request.query_params.get(name, "") for name in FILTER_PARAMS},
        "event_choices": EVENT_CHOICES,
        "any_ai_event": ANY_AI_EVENT,
        "filter_query": urlencode(kept),
        "stream_url": "/events/stream?" + urlencode({**kept, "since": since}),
        "filtered": bool(kept),
    }
    return render(request, "events.html", context)


def _sse(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get("/events/stream")
async def events_stream(request: Request, session: DbSession, user: User) -> Response:
    """New matching events after `since` (a `seq`): `events` messages (the newest `TAIL_BATCH`, newest first, and
    how many `arrived` since the last message), polled with a short session each."""
    require_events(user)
    filters = event_filter(request.query_params)
    since = _seq(request.query_params.get("since"), "since")
    if since is None:
        since = await store.latest_seq(session=session, environment_id=user.environment_id)
    await session.close()  # each poll opens its own short session; none is held while waiting
    sessionmaker = request.app.state.sessionmaker
    environment_id = user.environment_id

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        started = last_sent = loop.time()
        last = since
        yield "retry: 2000\n\n"
        while True:
            async with sessionmaker() as reading:
                rows = await store.events_after(
                    session=reading, environment_id=environment_id, filters=filters, after_seq=last, limit=TAIL_BATCH
                )
                arrived = len(rows)
                if arrived == TAIL_BATCH:
                    arrived = await store.count_between(
                        session=reading,
                        environment_id=environment_id,
                        filters=filters,
                        after_seq=last,
                        upto_seq=rows[0].seq,
                    )
            now = loop.time()
            if rows:
                last = rows[0].seq
                yield _sse("events", {"last_seq": last, "arrived": arrived, "events": [event_row(r) for r in rows]})
                last_sent = now
            elif now - last_sent > KEEPALIVE_S:
                yield ": keep-alive\n\n"
                last_sent = now
            if now - started > MAX_STREAM_S or await request.is_disconnected():
                return
            await asyncio.sleep(TAIL_INTERVAL_S)

    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
