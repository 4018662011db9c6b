"""Which traces (or sessions) a batch of events makes candidates for trace-level evaluations, and until when.

A trace-level evaluation's condition sets are checked against each event of the trace as they would be against a
generation (sampling on `distinct_id`, then the property filters): the trace becomes a candidate once any of its
events matches. Every event of a trace, matching or not, moves the candidate's due time to the event's arrival plus
the evaluation's idle time, so the trace is evaluated once it has been quiet that long.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from assay.ingest.matching import matches
from assay.ingest.triggers import sampled_filters
from assay.storage.online import EventHead
from assay.storage.trace_candidates import CandidateMark
from assay.storage.types import utcnow


@dataclass(frozen=True, slots=True)
class TraceTrigger:
    """A trace- or session-level evaluation as the scheduler checks it."""

    evaluator_id: uuid.UUID
    conditions: list[Any]
    kind: str
    """`trace` (grouped by `$ai_trace_id`) or `session` (by `$ai_session_id`)."""
    idle: timedelta
    uses_patterns: bool = False


def seqs_needing_properties(heads: Sequence[EventHead], triggers: dict[uuid.UUID, list[TraceTrigger]]) -> list[int]:
    """The events whose properties the marks need: for a session id, or for sampled-in property filters."""
    needed: list[int] = []
    for head in heads:
        for trigger in triggers.get(head.environment_id, ()):
            if trigger.kind == "session" or sampled_filters(trigger.conditions, head.distinct_id):
                needed.append(head.seq)
                break
    return needed


def _key(trigger: TraceTrigger, head: EventHead, props: dict[str, Any] | None) -> str | None:
    value = head.trace_id if trigger.kind == "trace" else (props or {}).get("$ai_session_id")
    return None if value in (None, "") else str(value)


def _matches(trigger: TraceTrigger, head: EventHead, props: dict[str, Any] | None) -> bool:
    programs = sampled_filters(trigger.conditions, head.distinct_id)
    if programs is None:
        return False
    if not programs:
        return True
    return props is not None and any(matches(p, head.event, head.distinct_id, props) for p in programs)


def trace_marks(
    heads: Sequence[EventHead],
    triggers: dict[uuid.UUID, list[TraceTrigger]],
    properties: dict[int, dict[str, Any]],
) -> list[CandidateMark]:
    """One mark per (evaluation, trace) seen in the batch, at the trace's latest event of the batch."""
    marks: dict[tuple[uuid.UUID, str, str], CandidateMark] = {}
    for head in heads:
        props = properties.get(head.seq)
        arrived = head.created_at or utcnow()
        for trigger in triggers.get(head.environment_id, ()):
            key = _key(trigger, head, props)
            if key is None:
                continue
            index = (trigger.evaluator_id, trigger.kind, key)
            earlier = marks.get(index)
            marks[index] = CandidateMark(
                evaluator_id=trigger.evaluator_id,
                environment_id=head.environment_id,
                kind=trigger.kind,
                key=key,
                due_at=arrived + trigger.idle,
                last_seq=head.seq,
                last_uuid=head.uuid,
                matched=(earlier is not None and earlier.matched) or _matches(trigger, head, props),
            )
    return list(marks.values())
