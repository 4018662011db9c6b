"""Running an evaluation on one stored event by hand (a manual evaluation run)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from assay.domain.trace_subject import TRACE_TARGET
from assay.errors import ResourceNotFound, ValidationFailed
from assay.storage import evaluation_runs as run_store
from assay.storage import evaluators as evaluator_store
from assay.storage import events as event_store
from assay.storage import online as online_store
from assay.storage.db import Session


@dataclass(frozen=True, slots=True)
class StartedEvaluationRun:
    """A queued manual run: its workflow id and the evaluation it runs."""

    workflow_id: str
    evaluation_id: uuid.UUID
    evaluation_name: str


async def start_evaluation_run(
    *,
    session: Session,
    environment_id: uuid.UUID,
    evaluation_id: uuid.UUID,
    target_event_id: uuid.UUID,
    timestamp: datetime,
    event: str,
    distinct_id: str | None = None,
    notify: Callable[[], None] | None = None,
) -> StartedEvaluationRun:
    """Queue a run of the evaluation on the event, whatever the evaluation's `enabled` flag and conditions.

    The event must match its uuid, its name, the UTC date of `timestamp` (naive means UTC) and, when given,
    `distinct_id`. Raises `ResourceNotFound` ("Evaluation <id> not found" or "Event <id> not found") otherwise.
    An `$ai_trace` event stands for its whole trace: the run evaluates every event sharing its `$ai_trace_id`
    (`ValidationFailed` when it has none). Commits, then calls `notify` (e.g. the online scheduler's).
    """
    try:
        evaluator = await evaluator_store.get_evaluator(
            session=session, environment_id=environment_id, evaluator_id=evaluation_id
        )
    except ResourceNotFound:
        raise ResourceNotFound(f"Evaluation {evaluation_id} not found") from None
    target = await event_store.get_event(session=session, environment_id=environment_id, event_uuid=target_event_id)
    when = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
    if (
        target is None
        or target.event != event
        or target.timestamp.astimezone(UTC).date() != when.astimezone(UTC).date()
        or (distinct_id is not None and target.distinct_id != distinct_id)
    ):
        raise ResourceNotFound(f"Event {target_event_id} not found")
    target_kind = target_key = None
    if event == TRACE_TARGET:
        if not target.trace_id:
            raise ValidationFailed("This $ai_trace event has no $ai_trace_id to evaluate.", attr="target_event_id")
        target_kind, target_key = "trace", target.trace_id
    workflow_id = f"{evaluation_id}-{target_event_id}-manual-{int(time.time() * 1000)}"
    await online_store.create_manual_run(
        session=session,
        workflow_id=workflow_id,
        environment_id=environment_id,
        evaluator_id=evaluator.id,
        event=target,
        target_kind=target_kind,
        target_key=target_key,
    )
    await session.commit()
    if notify is not None:
        notify()
    return StartedEvaluationRun(workflow_id=workflow_id, evaluation_id=evaluator.id, evaluation_name=evaluator.name)


async def rerun_failed(
    *,
    session: Session,
    environment_id: uuid.UUID,
    evaluation_id: uuid.UUID,
    since: datetime,
    limit: int,
    notify: Callable[[], None] | None = None,
) -> list[StartedEvaluationRun]:
    """Queue a manual run of the evaluation for each event whose run since `since` failed (verdict false or an error).

    Up to `limit` distinct events, newest failures first; events no longer stored are passed over. Each run
    is queued by `start_evaluation_run`, as `POST …/evaluation_runs` does. Raises `ResourceNotFound` for an
    evaluation that is not the environment's.
    """
    try:
        evaluator = await evaluator_store.get_evaluator(
            session=session, environment_id=environment_id, evaluator_id=evaluation_id
        )
    except ResourceNotFound:
        raise ResourceNotFound(f"Evaluation {evaluation_id} not found") from None
    failures, _ = await run_store.list_runs(
        session=session,
        environment_id=environment_id,
        limit=limit * 4,
        evaluator_id=evaluation_id,
        failures_only=True,
        since=since,
    )
    started: list[StartedEvaluationRun] = []
    seen: set[uuid.UUID] = set()
    for failure in failures:
        if failure.event_uuid in seen or len(started) >= limit:
            continue
        seen.add(failure.event_uuid)
        event = await event_store.get_event(
            session=session, environment_id=environment_id, event_uuid=failure.event_uuid
        )
        if event is None:
            continue
        if failure.target_kind is not None:  # a trace or session run: run it on the same trace again
            workflow_id = f"{evaluation_id}-{event.uuid}-manual-{int(time.time() * 1000)}"
            await online_store.create_manual_run(
                session=session,
                workflow_id=workflow_id,
                environment_id=environment_id,
                evaluator_id=evaluation_id,
                event=event,
                target_kind=failure.target_kind,
                target_key=failure.target_key,
            )
            await session.commit()
            started.append(StartedEvaluationRun(workflow_id, evaluation_id, evaluator.name))
            continue
        started.append(
            await start_evaluation_run(
                session=session,
                environment_id=environment_id,
                evaluation_id=evaluation_id,
                target_event_id=event.uuid,
                timestamp=event.timestamp,
                event=event.event,
                distinct_id=event.distinct_id,
            )
        )
    if started and notify is not None:
        notify()
    return started
