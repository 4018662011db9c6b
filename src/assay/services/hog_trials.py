"""Trying Hog evaluation code on recent events without saving (what `…/evaluations/test_hog` and the
editor's playground run).

As the original (behaviour reference §3.3): the latest `$ai_generation` events of the last 7 days
that match any condition's property filters (conditions without filters are ignored, rollout is
ignored) are evaluated with the code. The conditions are applied on the HogVM over at most
`MAX_CANDIDATES` of the newest events.

The whole trial has one time budget, `TIME_BUDGET` (the limit of one evaluation): matching the
conditions and running the code on every sampled event share it, so ten events cannot take ten times
as long. Events the budget did not reach are still listed, each with `NOT_EVALUATED_ERROR`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from assay.domain.evaluator_config import MAX_HOG_SOURCE_LENGTH
from assay.domain.messages import GENERATION_EVENT, extract_event_io, text_preview
from assay.evaluators.hog_eval import TIMEOUT_ERROR, run_hog_eval_async
from assay.hog.stdlib.values import format_number
from assay.hog.vm import DEFAULT_TIMEOUT
from assay.ingest.matching import first_matching
from assay.storage import events as store
from assay.storage.db import Session
from assay.storage.event_tables import EventRow
from assay.storage.events import EventFilter
from assay.storage.types import utcnow

LOOKBACK = timedelta(days=7)
MAX_CANDIDATES = 1_000
MAX_SOURCE_LENGTH = MAX_HOG_SOURCE_LENGTH
"""Longest `source` accepted, as for the Hog code of a stored evaluator."""
TIME_BUDGET = DEFAULT_TIMEOUT
"""Seconds for the whole trial: condition matching plus every sampled event's evaluation."""
GRACE = 0.5
"""How long past the budget an evaluation may take to report its own timeout before it is abandoned."""
NO_EVENTS_MESSAGE = "No recent AI events found in the last 7 days"
NO_MATCH_IN_TIME_MESSAGE = (
    f"No recent AI events matched the conditions within the {format_number(TIME_BUDGET)} s time budget"
)
NOT_EVALUATED_ERROR = (
    f"Not evaluated: the request's {format_number(TIME_BUDGET)} s time budget was used up by earlier events"
)


class HogTrialRefused(Exception):
    """The code or the conditions do not compile; `error` is what the API answers in `{"error": …}`."""

    def __init__(self, error: str | dict[str, list[str]]) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class HogTrialResult:
    """One sampled event and what the code made of it (printed lines are the reasoning)."""

    event_uuid: str
    trace_id: str | None
    input_preview: str
    output_preview: str
    result: bool | None
    reasoning: str
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class HogTrial:
    """The results, and `message` when no event was sampled."""

    results: list[HogTrialResult]
    message: str | None = None


def compile_source(source: str) -> list[Any]:
    """Bytecode of the code; `HogTrialRefused` when it does not compile."""
    from assay.hog import HogSyntaxError, compile_program

    try:
        return compile_program(source)
    except HogSyntaxError as e:
        raise HogTrialRefused(f"Compilation error: {e}") from None
    except RecursionError:
        raise HogTrialRefused("Compilation error: the program is nested too deeply") from None
    except Exception:
        raise HogTrialRefused("Compilation failed due to an unexpected error") from None


def condition_programs(conditions: list[dict[str, Any]]) -> list[list[Any]]:
    """The compiled property filters of the conditions that have any; `HogTrialRefused` on a bad one."""
    from assay.hog import compile_property_filters

    programs: list[list[Any]] = []
    for i, condition in enumerate(conditions):
        filters = condition.get("properties")
        if not filters:
            continue
        try:
            programs.append(compile_property_filters(filters))
        except (ValueError, TypeError, RecursionError) as e:
            raise HogTrialRefused({"conditions": [f"Condition {i}: {e}"]}) from None
    return programs


async def _sample(
    session: Session, environment_id: uuid.UUID, programs: list[list[Any]], want: int, deadline: float
) -> list[EventRow]:
    filters = EventFilter(event=GENERATION_EVENT, after=utcnow() - LOOKBACK)
    if not programs:
        return await store.latest_events(session=session, environment_id=environment_id, filters=filters, limit=want)
    found: list[EventRow] = []
    async for chunk in store.scan_events(
        session=session, environment_id=environment_id, filters=filters, max_rows=MAX_CANDIDATES
    ):
        candidates = [(r.event, r.distinct_id, r.properties) for r in chunk]
        hits = await asyncio.to_thread(first_matching, programs, candidates, want - len(found), deadline=deadline)
        found.extend(chunk[i] for i in hits)
        if len(found) >= want or time.monotonic() >= deadline:
            break
    return found


async def _run(bytecode: list[Any], event: dict[str, Any], allows_na: bool, deadline: float) -> dict[str, Any]:
    """The evaluation's outcome, never later than shortly after `deadline`."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return {"verdict": None, "reasoning": "", "error": NOT_EVALUATED_ERROR}
    try:
        # The VM stops itself at `remaining`; the wait only guards against one native call overrunning it.
        return await asyncio.wait_for(
            run_hog_eval_async(bytecode, event, allows_na, timeout=remaining), remaining + GRACE
        )
    except TimeoutError:
        return {"verdict": None, "reasoning": "", "error": TIMEOUT_ERROR}


async def _evaluate(bytecode: list[Any], row: EventRow, allows_na: bool, deadline: float) -> HogTrialResult:
    event = {"uuid": str(row.uuid), "event": row.event, "properties": row.properties, "distinct_id": row.distinct_id}
    outcome = await _run(bytecode, event, allows_na, deadline)
    input_raw, output_raw = extract_event_io(row.event, row.properties)
    trace_id = row.properties.get("$ai_trace_id")
    return HogTrialResult(
        event_uuid=str(row.uuid),
        trace_id=str(trace_id) if trace_id not in (None, "") else None,
        input_preview=text_preview(input_raw),
        output_preview=text_preview(output_raw),
        result=outcome["verdict"],
        reasoning=outcome["reasoning"],
        error=outcome["error"],
    )


async def try_hog(
    *,
    session: Session,
    environment_id: uuid.UUID,
    source: str,
    sample_count: int,
    allows_na: bool,
    conditions: list[dict[str, Any]],
) -> HogTrial:
    """Run the code on up to `sample_count` recent matching events within one time budget, saving nothing.

    Raises `HogTrialRefused` when the code or a condition's filters do not compile.
    """
    bytecode = compile_source(source)
    programs = condition_programs(conditions)
    deadline = time.monotonic() + TIME_BUDGET
    rows = await _sample(session, environment_id, programs, sample_count, deadline)
    if not rows:
        return HogTrial(
            results=[], message=NO_MATCH_IN_TIME_MESSAGE if time.monotonic() >= deadline else NO_EVENTS_MESSAGE
        )
    return HogTrial(results=[await _evaluate(bytecode, row, allows_na, deadline) for row in rows])
