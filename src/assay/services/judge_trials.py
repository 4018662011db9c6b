"""Trying an LLM-judge evaluation's draft on one event without saving (the editor's judge playground).

The draft runs exactly as a stored `llm_judge` evaluation would run online (`engine.online.evaluate`): the
same judge endpoint resolution (the model configuration's provider key, else the server's judge model), the
same prompt, the same verdict parsing. Nothing is stored: no evaluation run, no `$ai_evaluation` event. A
provider key that the provider refuses is marked as on any online run, so the editor shows the key's state.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from assay.domain.messages import GENERATION_EVENT, extract_event_io, text_preview
from assay.engine.online.evaluate import EvaluatorSpec, OnlineContext, TargetEvent, evaluate_event
from assay.errors import ResourceNotFound, ValidationFailed
from assay.settings import Settings
from assay.storage import events as event_store
from assay.storage.db import SessionFactory
from assay.storage.event_tables import EventRow
from assay.storage.events import EventFilter
from assay.storage.types import utcnow

RECENT_EVENTS = 10
"""How many recent generations the editor offers to try the judge on."""


@dataclass(frozen=True, slots=True)
class JudgeTrial:
    """What the judge made of the event: a verdict with its reasoning, or why there is none (`error`)."""

    event_uuid: str
    trace_id: str | None
    input_preview: str
    output_preview: str
    status: str
    verdict: bool | None
    applicable: bool | None
    reasoning: str
    error: str | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


async def recent_generations(
    *, sessionmaker: SessionFactory, environment_id: uuid.UUID, limit: int = RECENT_EVENTS
) -> list[EventRow]:
    """The newest `$ai_generation` events, to choose one to try the judge on."""
    async with sessionmaker() as session:
        return await event_store.latest_events(
            session=session, environment_id=environment_id, filters=EventFilter(event=GENERATION_EVENT), limit=limit
        )


async def try_judge(
    *,
    sessionmaker: SessionFactory,
    settings: Settings,
    environment_id: uuid.UUID,
    event_uuid: uuid.UUID,
    prompt: str,
    allows_na: bool,
    model_configuration: dict[str, Any] | None,
) -> JudgeTrial:
    """Judge one event of the environment with the draft, saving nothing.

    `ResourceNotFound` when the event is not the environment's; `ValidationFailed` for a blank prompt.
    """
    if not prompt.strip():
        raise ValidationFailed("The prompt may not be blank.", attr="prompt")
    async with sessionmaker() as session:
        row = await event_store.get_event(session=session, environment_id=environment_id, event_uuid=event_uuid)
    if row is None:
        raise ResourceNotFound("No event with this id in this environment.")
    spec = EvaluatorSpec(
        id=uuid.uuid4(),
        environment_id=environment_id,
        name="draft",
        evaluation_type="llm_judge",
        evaluation_config={"prompt": prompt},
        output_type="boolean",
        output_config={"allows_na": allows_na},
        model=model_configuration,
    )
    target = TargetEvent(uuid=row.uuid, event=row.event, distinct_id=row.distinct_id, properties=row.properties)
    context = OnlineContext(sessionmaker=sessionmaker, settings=settings)
    outcome = await evaluate_event(context, workflow_id=f"trial-{spec.id}", spec=spec, target=target, start=utcnow())
    result = outcome.result or {}
    judged = outcome.event.properties if outcome.event is not None else {}
    input_raw, output_raw = extract_event_io(row.event, row.properties)
    return JudgeTrial(
        event_uuid=str(row.uuid),
        trace_id=target.trace_id,
        input_preview=text_preview(input_raw),
        output_preview=text_preview(output_raw),
        status=str(outcome.status),
        verdict=result.get("verdict"),
        applicable=result.get("applicable"),
        reasoning=str(result.get("reasoning") or ""),
        error=outcome.error,
        model=judged.get("$ai_evaluation_model"),
        input_tokens=judged.get("$ai_input_tokens"),
        output_tokens=judged.get("$ai_output_tokens"),
    )
