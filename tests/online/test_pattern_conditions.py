"""Conditions with regular expressions are matched off the event loop, however few events arrive.

RE2 keeps each match linear, and each is refused past its budget, but a costly pattern on long properties still
takes a good fraction of a second per event: run inline, a handful of events would hold up ingestion and every
other request for seconds.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from assay.ingest.triggers import uses_patterns
from tests.online.conftest import condition, create_evaluation, generation_event, send, settle

pytestmark = pytest.mark.timeout(120)


def test_uses_patterns_sees_regex_operators_only() -> None:
    regex = {"key": "text", "operator": "regex", "value": "a+", "type": "event"}
    exact = {"key": "text", "operator": "exact", "value": "a", "type": "event"}
    assert uses_patterns([condition(exact), condition(regex)])
    assert uses_patterns([condition({**regex, "operator": "not_regex"})])
    assert not uses_patterns([condition(exact), condition()])
    assert not uses_patterns([])
    assert not uses_patterns(["not a condition", {"properties": "nor this"}])


async def test_costly_pattern_conditions_leave_the_event_loop_free(http, env, running_app) -> None:  # noqa: ANN001
    rng = random.Random(7)
    text = "".join(rng.choice("ab") for _ in range(100_000))
    costly = {"key": "text", "operator": "regex", "value": "[ab]*a[ab]{200}c", "type": "event"}
    await create_evaluation(http, env, name="costly", conditions=[condition(costly)])

    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await send(http, env, [generation_event(distinct_id=f"u{i}", text=text) for i in range(12)])
    await settle(running_app, timeout=60)
    stop.set()
    await tick
    # Inline, the twelve matches (each a sizeable fraction of a second) would be one long stall of the loop.
    assert max(gaps) < 1.0, f"the event loop stalled for {max(gaps):.2f} s"
