"""Ingesting OTLP spans and GenAI log events: map them to `$ai_*` events and store those through `ingest_batch`.

Spans and the log events carrying their messages are exported separately, in either order. So:

- a generation span that carries its messages (or, with no wait configured, any span) is stored at once, with
  the content of log events already waiting for it;
- a generation span without messages waits (`otlp_pending`) until a log event with its answer arrives, or until
  `wait_seconds` have passed (then it is stored as it is: `sweep_expired`);
- log events for a span not seen yet wait as well; those never claimed are dropped after twice the wait.

Every stored event goes through `services/ingestion.py::ingest_batch`, so online evaluation sees OTLP events
as it sees captured ones. Event uuids derive from the span ids, so retries and a second sweeper never store a
span twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from assay.ingest.otlp.log_events import LogContent, apply_contents, has_output, is_genai_log, merge_contents, read_log
from assay.ingest.otlp.records import OtelLog, OtelSpan
from assay.ingest.otlp.spans import SpanRejected, awaits_content, is_ai_span, span_event
from assay.services.ingestion import ingest_batch
from assay.storage.db import Session, SessionFactory, write_lock
from assay.storage.otlp_pending import (
    PendingPart,
    add_parts,
    any_expired,
    delete_parts,
    drop_expired_logs,
    extend_parts,
    pending_parts,
    take_expired_spans,
)
from assay.storage.types import utcnow

log = logging.getLogger(__name__)

Key = tuple[str, str]


@dataclass(slots=True)
class OtlpOutcome:
    """What became of an export request's items: how many were refused and why (first reasons only)."""

    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    stored: int = 0
    waiting: int = 0

    def refuse(self, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < 5 and reason not in self.errors:
            self.errors.append(reason)

    @property
    def error_message(self) -> str:
        return "; ".join(self.errors)


async def _store(
    session: Session,
    environment_id: uuid.UUID,
    events: list[dict[str, Any]],
    outcome: OtlpOutcome,
    notify: Callable[[], None] | None,
) -> None:
    if not events:
        return
    result = await ingest_batch(
        session=session, environment_id=environment_id, raw_events=events, sent_at=None, notify=notify
    )
    outcome.stored += result.stored
    for rejected in result.rejected:
        name = events[rejected["index"]]["properties"].get("$ai_span_name", "")
        outcome.refuse(f"span {str(name)[:64]!r}: {rejected['reason']}")


def _logs_by_key(parts: Sequence[PendingPart]) -> tuple[dict[Key, list[PendingPart]], dict[Key, PendingPart]]:
    logs: dict[Key, list[PendingPart]] = defaultdict(list)
    spans: dict[Key, PendingPart] = {}
    for part in parts:
        key = (part.trace_id, part.span_id)
        if part.kind == "span":
            spans.setdefault(key, part)
        else:
            logs[key].append(part)
    return logs, spans


async def ingest_spans(
    *,
    session: Session,
    environment_id: uuid.UUID,
    spans: Sequence[OtelSpan],
    wait_seconds: float,
    notify: Callable[[], None] | None = None,
) -> OtlpOutcome:
    """Map and store the AI spans of one export request (other spans are skipped); see the module rules."""
    outcome = OtlpOutcome()
    events: list[dict[str, Any]] = []
    for span in spans:
        if not is_ai_span(span):
            continue
        try:
            events.append(span_event(span))
        except SpanRejected as e:
            outcome.refuse(e.reason)
    if not events:
        return outcome
    keys = {(e["properties"]["$ai_trace_id"], e["properties"]["$ai_span_id"]) for e in events}
    logs, parked = _logs_by_key(await pending_parts(session=session, environment_id=environment_id, keys=keys))
    now = utcnow()
    expires_at = now + timedelta(seconds=wait_seconds)
    store: list[dict[str, Any]] = []
    joined: list[uuid.UUID] = []
    park: list[tuple[str, str, str, dict[str, Any]]] = []
    keep_logs: list[uuid.UUID] = []
    for event in events:
        key = (event["properties"]["$ai_trace_id"], event["properties"]["$ai_span_id"])
        waiting_logs = logs.get(key, [])
        content = merge_contents(LogContent.from_json(p.payload) for p in waiting_logs)
        if not awaits_content(event) or has_output(content) or wait_seconds <= 0:
            apply_contents(event["properties"], content)
            store.append(event)
            joined.extend(p.id for p in waiting_logs)
            if key in parked:
                joined.append(parked[key].id)
        elif key not in parked:  # an exporter's retry finds its span parked already
            park.append((*key, "span", event))
            keep_logs.extend(p.id for p in waiting_logs)
    await _store(session, environment_id, store, outcome, notify)
    if joined or park or keep_logs:
        async with write_lock(session):
            await delete_parts(session=session, ids=joined)
            if park:
                await add_parts(session=session, environment_id=environment_id, parts=park, expires_at=expires_at)
            await extend_parts(session=session, ids=keep_logs, expires_at=expires_at + timedelta(seconds=wait_seconds))
            await session.commit()
    outcome.waiting = len(park)
    return outcome


async def ingest_logs(
    *,
    session: Session,
    environment_id: uuid.UUID,
    logs: Sequence[OtelLog],
    wait_seconds: float,
    notify: Callable[[], None] | None = None,
) -> OtlpOutcome:
    """Join the GenAI log events of one export request to their spans (other logs are skipped)."""
    outcome = OtlpOutcome()
    contents: dict[Key, list[LogContent]] = defaultdict(list)
    for record in logs:
        if not is_genai_log(record):
            continue
        if len(record.trace_id) != 32 or len(record.span_id) != 16:
            outcome.refuse(f"log event {record.event_name!r} has no trace id and span id to join it to its span")
            continue
        content = read_log(record)
        if content is not None:
            contents[(record.trace_id, record.span_id)].append(content)
    if not contents:
        return outcome
    waiting_logs, parked = _logs_by_key(
        await pending_parts(session=session, environment_id=environment_id, keys=contents)
    )
    now = utcnow()
    store: list[dict[str, Any]] = []
    joined: list[uuid.UUID] = []
    add: list[tuple[str, str, str, dict[str, Any]]] = []
    for key, new in contents.items():
        earlier = [LogContent.from_json(p.payload) for p in waiting_logs.get(key, [])]
        merged = merge_contents([*earlier, *new])
        span = parked.get(key)
        if span is not None and has_output(merged):
            event = span.payload
            apply_contents(event["properties"], merged)
            store.append(event)
            joined.append(span.id)
            joined.extend(p.id for p in waiting_logs.get(key, []))
        else:
            add.extend((*key, "log", c.to_json()) for c in new)
    await _store(session, environment_id, store, outcome, notify)
    if joined or add:
        async with write_lock(session):
            await delete_parts(session=session, ids=joined)
            if add:
                expires_at = now + timedelta(seconds=2 * max(wait_seconds, 0.0))
                await add_parts(session=session, environment_id=environment_id, parts=add, expires_at=expires_at)
            await session.commit()
    outcome.waiting = len(add)
    return outcome


async def sweep_expired(
    *, session: Session, now: datetime | None = None, notify: Callable[[], None] | None = None
) -> int:
    """Store the spans whose wait is over (with whatever logs came) and drop lone expired logs; returns stored."""
    now = now or utcnow()
    if not await any_expired(session=session, now=now):  # a read: no write turn on the hot path
        return 0
    async with write_lock(session):
        spans = await take_expired_spans(session=session, now=now)
        dropped = await drop_expired_logs(session=session, now=now)
        await session.commit()
    if dropped:
        log.info("dropped %d OTLP log events whose span never arrived", dropped)
    by_env: dict[uuid.UUID, list[PendingPart]] = defaultdict(list)
    for part in spans:
        by_env[part.environment_id].append(part)
    stored = 0
    for environment_id, parts in by_env.items():
        logs, _ = _logs_by_key(
            await pending_parts(
                session=session, environment_id=environment_id, keys=[(p.trace_id, p.span_id) for p in parts]
            )
        )
        events = []
        joined: list[uuid.UUID] = []
        for part in parts:
            waiting = logs.get((part.trace_id, part.span_id), [])
            event = part.payload
            apply_contents(event["properties"], merge_contents(LogContent.from_json(p.payload) for p in waiting))
            events.append(event)
            joined.extend(p.id for p in waiting)
        outcome = OtlpOutcome()
        await _store(session, environment_id, events, outcome, notify)
        stored += outcome.stored
        if joined:
            async with write_lock(session):
                await delete_parts(session=session, ids=joined)
                await session.commit()
    return stored


def sweep_interval(wait_seconds: float) -> float:
    """How often to sweep: a quarter of the wait, between 0.2 and 5 seconds."""
    return max(0.2, min(5.0, wait_seconds / 4))


async def sweep_forever(
    sessionmaker: SessionFactory, *, interval: float, notify: Callable[[], None] | None = None
) -> None:
    """Run `sweep_expired` every `interval` seconds until cancelled (errors are logged, never fatal)."""
    while True:
        await asyncio.sleep(interval)
        try:
            async with sessionmaker() as session:
                await sweep_expired(session=session, notify=notify)
        except asyncio.CancelledError:
            raise
        except Exception:  # a database hiccup must not end the loop
            log.exception("sweeping waiting OTLP spans failed")
