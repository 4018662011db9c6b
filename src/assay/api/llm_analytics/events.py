"""`/api/environments/{environment_id}/events`: ingest events with an API key, list and retrieve them.

Scopes: `POST` needs `event:write`. Reading needs `event:read` **or** `evaluation:read` (people writing
evaluations need to see the events those evaluations run on, which `test_hog` runs on too); `event:write`
alone does not read: a key given to producers must not read back every prompt and answer logged.

`properties` filters are PostHog property filters (the shape of evaluation conditions), run on the
HogVM in Python, not in SQL: they are applied to the newest `PROPERTY_SCAN_LIMIT` events that
match the other filters, and `count` counts matches within that window.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from assay.api.deps import Principal, SessionDep, environment_access
from assay.api.ingest.notify import online_notifier
from assay.api.llm_analytics.any_scope import environment_any_scope
from assay.api.llm_analytics.common import ERROR_RESPONSES, parse_object_id, scopes_doc
from assay.api.pagination import Page, PageParams, make_page, page_params
from assay.errors import ResourceNotFound, ValidationFailed
from assay.ingest.decode import CaptureDecodeError, decode_capture_request, parse_datetime
from assay.ingest.matching import first_matching
from assay.services.ingestion import ingest_batch
from assay.storage import events as store
from assay.storage.event_tables import EventRow
from assay.storage.events import EventFilter

router = APIRouter(prefix="/api/environments/{environment_id}/events", tags=["events"], responses=ERROR_RESPONSES)
WriteAccess = Annotated[Principal, Depends(environment_access("event"))]

PROPERTY_SCAN_LIMIT = 5_000
"""How many of the newest events (after the column filters) `properties` filters look at."""

READ_SCOPES = ("event:read", "evaluation:read")
ReadAccess = Annotated[Principal, Depends(environment_any_scope(*READ_SCOPES))]


class EventPublic(BaseModel):
    """A stored event. `id` and `uuid` are the same value (PostHog's events API calls it `id`)."""

    id: str
    uuid: str
    event: str
    distinct_id: str
    timestamp: datetime
    properties: dict[str, Any]
    trace_id: str | None
    created_at: datetime


class RejectedEvent(BaseModel):
    index: int
    reason: str


class EventWarnings(BaseModel):
    index: int
    warnings: list[str]


class IngestResult(BaseModel):
    """`accepted` valid events, of which `stored` were new (`duplicates` had a known uuid)."""

    accepted: int
    stored: int
    duplicates: int
    rejected: list[RejectedEvent]
    warnings: list[EventWarnings]


def to_public(row: EventRow) -> EventPublic:
    return EventPublic(
        id=str(row.uuid),
        uuid=str(row.uuid),
        event=row.event,
        distinct_id=row.distinct_id,
        timestamp=row.timestamp,
        properties=row.properties,
        trace_id=row.trace_id,
        created_at=row.created_at,
    )


_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "event": {"type": "string"},
        "distinct_id": {"type": "string"},
        "uuid": {"type": "string", "format": "uuid"},
        "timestamp": {"type": "string", "format": "date-time"},
        "properties": {"type": "object"},
    },
    "required": ["event", "distinct_id"],
}
_INGEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _EVENT_SCHEMA,
                        {"type": "object", "properties": {"batch": {"type": "array", "items": _EVENT_SCHEMA}}},
                        {"type": "array", "items": _EVENT_SCHEMA},
                    ]
                }
            }
        },
    },
    **scopes_doc("event:write"),
}


@router.post("", openapi_extra=_INGEST_BODY)
async def ingest_events(request: Request, session: SessionDep, principal: WriteAccess) -> IngestResult:
    """Ingest one event, a list, or `{"batch": [...]}` (gzip accepted), deduplicated by `uuid`.

    Events are normalised as the capture endpoints do; an invalid event is reported in `rejected`
    and the others are stored. A project token in the body is ignored: the URL picks the environment.
    """
    try:
        payload = decode_capture_request(
            await request.body(),
            content_type=request.headers.get("content-type"),
            content_encoding=request.headers.get("content-encoding"),
            query={},
        )
    except CaptureDecodeError as e:
        raise ValidationFailed(e.message, code="parse_error") from None
    outcome = await ingest_batch(
        session=session,
        environment_id=principal.environment_id,
        raw_events=payload.events,
        sent_at=payload.sent_at,
        notify=online_notifier(request.app),
    )
    return IngestResult(
        accepted=outcome.accepted,
        stored=outcome.stored,
        duplicates=outcome.duplicates,
        rejected=[RejectedEvent(**r) for r in outcome.rejected],
        warnings=[EventWarnings(**w) for w in outcome.warnings],
    )


def _time_param(raw: str | None, attr: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    value = parse_datetime(raw)
    if value is None:
        raise ValidationFailed("Datetime has wrong format. Use ISO 8601.", attr=attr, code="invalid")
    return value


def _property_program(raw: str | None) -> list[Any] | None:
    if raw is None or not raw.strip():
        return None
    from assay.hog import compile_property_filters

    try:
        filters = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValidationFailed("properties must be a JSON list of property filters.", attr="properties") from None
    if not isinstance(filters, list):
        raise ValidationFailed("properties must be a JSON list of property filters.", attr="properties")
    if not filters:
        return None
    try:
        return compile_property_filters(filters)
    except (ValueError, TypeError, RecursionError) as e:
        raise ValidationFailed(f"Invalid property filter: {e}", attr="properties") from None


async def _filtered_page(
    *, session: SessionDep, principal: Principal, filters: EventFilter, program: list[Any], page: PageParams
) -> tuple[int, list[EventRow]]:
    matched: list[int] = []
    async for chunk in store.scan_events(
        session=session, environment_id=principal.environment_id, filters=filters, max_rows=PROPERTY_SCAN_LIMIT
    ):
        candidates = [(r.event, r.distinct_id, r.properties) for r in chunk]
        hits = await asyncio.to_thread(first_matching, [program], candidates, len(candidates))
        matched.extend(chunk[i].seq for i in hits)
    wanted = matched[page.offset : page.offset + page.limit]
    rows = await store.events_by_seq(session=session, environment_id=principal.environment_id, seqs=wanted)
    return len(matched), rows


@router.get("", openapi_extra=scopes_doc(*READ_SCOPES))
async def list_events(
    request: Request,
    session: SessionDep,
    principal: ReadAccess,
    page: Annotated[PageParams, Depends(page_params)],
    event: Annotated[str | None, Query(description="Exact event name, e.g. `$ai_generation`.")] = None,
    after: Annotated[str | None, Query(description="Only events with a timestamp after this ISO 8601 time.")] = None,
    before: Annotated[str | None, Query(description="Only events with a timestamp before this ISO 8601 time.")] = None,
    trace_id: Annotated[str | None, Query(description="Only events of this `$ai_trace_id`.")] = None,
    distinct_id: Annotated[str | None, Query()] = None,
    properties: Annotated[
        str | None,
        Query(
            description="A JSON list of PostHog property filters (`{key, value, operator, type}`), ANDed; "
            f"applied to the newest {PROPERTY_SCAN_LIMIT} events matching the other filters."
        ),
    ] = None,
) -> Page[EventPublic]:
    """List the environment's events, newest first (by event timestamp)."""
    filters = EventFilter(
        event=event or None,
        after=_time_param(after, "after"),
        before=_time_param(before, "before"),
        trace_id=trace_id or None,
        distinct_id=distinct_id or None,
    )
    program = _property_program(properties)
    if program is None:
        count, rows = await store.list_events(
            session=session,
            environment_id=principal.environment_id,
            filters=filters,
            limit=page.limit,
            offset=page.offset,
        )
    else:
        count, rows = await _filtered_page(
            session=session, principal=principal, filters=filters, program=program, page=page
        )
    return make_page(request, page, count, [to_public(r) for r in rows])  # type: ignore[return-value]


@router.get("/{uuid}", openapi_extra=scopes_doc(*READ_SCOPES))
async def retrieve_event(uuid: str, session: SessionDep, principal: ReadAccess) -> EventPublic:
    """One event by its uuid."""
    row = await store.get_event(
        session=session, environment_id=principal.environment_id, event_uuid=parse_object_id(uuid)
    )
    if row is None:
        raise ResourceNotFound("Not found.")
    return to_public(row)
