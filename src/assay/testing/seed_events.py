"""Seeding an environment with many `$ai_*` events for benchmarks: generations, spans and traces with realistic
properties over 30 days, a few rare models and users, and one trace of `trace_spans` spans.

Events go in through `storage.events.insert_events` in bulk, a chunk per transaction, so a million take minutes,
not hours. The data is deterministic for a given `seed`.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from assay.domain.events import NormalizedEvent
from assay.storage.db import SessionFactory
from assay.storage.events import insert_events
from assay.storage.types import utcnow
from assay.testing.seed import WORDS

CHUNK = 5_000
MODELS = (("gpt-4o-mini", 40), ("gpt-4o", 20), ("claude-3-5-sonnet", 15), ("llama-3.1-8b", 10), ("gemini-1.5", 10))
PROVIDERS = {"gpt-4o-mini": "openai", "gpt-4o": "openai", "claude-3-5-sonnet": "anthropic"}
RARE_MODEL = "rare-model"
"""One generation in `RARE_EVERY` uses it: a filter that must look far back."""
RARE_EVERY = 2_000
USERS = 20_000
BIG_TRACE = "bench-big-trace"


@dataclass(frozen=True, slots=True)
class SeededEvents:
    """What a benchmark needs to address the seeded events."""

    count: int
    first_at: datetime
    last_at: datetime
    sample_uuid: str
    sample_trace: str
    big_trace: str


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _generation(rng: random.Random, i: int, at: datetime, trace: str, parent: str | None) -> NormalizedEvent:
    if i % RARE_EVERY == RARE_EVERY // 2:
        model = RARE_MODEL
    else:
        model = rng.choices([m for m, _ in MODELS], weights=[w for _, w in MODELS])[0]
    props: dict[str, Any] = {
        "$ai_trace_id": trace,
        "$ai_span_id": f"g-{i}",
        "$ai_model": model,
        "$ai_provider": PROVIDERS.get(model, "local"),
        "$ai_input": [
            {"role": "system", "content": "You are a helpful support agent."},
            {"role": "user", "content": _text(rng, 14)},
        ],
        "$ai_output_choices": [{"role": "assistant", "content": _text(rng, 30)}],
        "$ai_input_tokens": rng.randint(20, 900),
        "$ai_output_tokens": rng.randint(10, 400),
        "$ai_latency": round(rng.uniform(0.2, 6.0), 3),
        "$ai_total_cost_usd": round(rng.uniform(0.0001, 0.02), 6),
        "$ai_http_status": 200,
    }
    if parent is not None:
        props["$ai_parent_id"] = parent
    return NormalizedEvent(
        uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        event="$ai_generation",
        distinct_id=f"user-{rng.randrange(USERS):05d}",
        timestamp=at,
        properties=props,
        trace_id=trace,
    )


def _span(rng: random.Random, i: int, at: datetime, trace: str, parent: str | None) -> NormalizedEvent:
    props: dict[str, Any] = {
        "$ai_trace_id": trace,
        "$ai_span_id": f"s-{i}",
        "$ai_span_name": rng.choice(("retrieve", "lookup_order", "rerank", "plan", "tool:refund")),
        "$ai_latency": round(rng.uniform(0.01, 2.0), 3),
        "$ai_input_state": {"query": _text(rng, 6)},
        "$ai_output_state": {"hits": rng.randint(0, 9)},
    }
    if parent is not None:
        props["$ai_parent_id"] = parent
    return NormalizedEvent(
        uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        event="$ai_span",
        distinct_id=f"user-{rng.randrange(USERS):05d}",
        timestamp=at,
        properties=props,
        trace_id=trace,
    )


def big_trace_events(rng: random.Random, spans: int, start: datetime) -> list[NormalizedEvent]:
    """One trace of `spans` events: spans nested up to four deep, each with generations under it."""
    events: list[NormalizedEvent] = []
    parents: list[str | None] = [None]
    for i in range(spans):
        at = start + timedelta(milliseconds=40 * i)
        parent = parents[rng.randrange(len(parents))]
        make = _span if i % 3 == 0 else _generation
        event = make(rng, 10_000_000 + i, at, BIG_TRACE, parent)
        if make is _span and len(parents) < 60:
            parents.append(str(event.properties["$ai_span_id"]))
        events.append(event)
    return events


async def seed_events(
    sessionmaker: SessionFactory,
    *,
    environment_id: uuid.UUID,
    count: int,
    trace_spans: int = 500,
    days: int = 30,
    seed: int = 7,
) -> SeededEvents:
    """Store `count` events (about 4 in 5 generations, the rest spans; traces of 1 to 8 events) spread over the
    last `days` days in time order, then one trace of `trace_spans` events an hour ago."""
    rng = random.Random(seed)
    end = utcnow() - timedelta(hours=2)
    start = end - timedelta(days=days)
    step = (end - start) / max(1, count)
    sample_uuid = sample_trace = ""
    trace, left, parent = "", 0, None
    chunk: list[NormalizedEvent] = []
    for i in range(count):
        if left == 0:
            trace, left, parent = f"trace-{i:08d}", rng.randint(1, 8), None
        at = start + step * i
        event = _span(rng, i, at, trace, parent) if rng.random() < 0.2 else _generation(rng, i, at, trace, parent)
        parent = parent or str(event.properties["$ai_span_id"])
        left -= 1
        if i == count // 2:
            sample_uuid, sample_trace = event.uuid, trace
        chunk.append(event)
        if len(chunk) >= CHUNK or i == count - 1:
            await _store(sessionmaker, environment_id, chunk)
            chunk = []
    await _store(sessionmaker, environment_id, big_trace_events(rng, trace_spans, utcnow() - timedelta(hours=1)))
    return SeededEvents(count, start, end, sample_uuid, sample_trace, BIG_TRACE)


async def _store(sessionmaker: SessionFactory, environment_id: uuid.UUID, events: list[NormalizedEvent]) -> None:
    async with sessionmaker() as session:
        await insert_events(session=session, environment_id=environment_id, events=events)
        await session.commit()
