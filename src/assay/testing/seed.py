"""Seeding a suite with large runs for benchmarks and screenshots: realistic text, tags, verdicts, overrides.

Everything goes in through storage functions in bulk (`insert_test_cases`, `store_result_rows`), so 10,000 results
take seconds. The data is deterministic for a given `seed`.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from assay.domain.runs import RunSnapshot
from assay.domain.statuses import RunStatus
from assay.engine.runs.summary import compute_summary
from assay.storage import instances as instance_store
from assay.storage import recipes as recipe_store
from assay.storage import runs as run_store
from assay.storage import suites as suite_store
from assay.storage.case_import import insert_test_cases
from assay.storage.db import SessionFactory
from assay.storage.run_execution import get_run_by_id, record_finish, refresh_suite
from assay.storage.run_results import store_result_rows
from assay.storage.types import utcnow

TAGS = ("billing", "refunds", "shipping", "account", "returns", "escalation", "smalltalk", "security")
WORDS = (
    "order refund package delivery account password invoice charge card shipping address return label "
    "warehouse courier tracking number customer support agent policy days business week damaged missing "
    "replacement exchange discount coupon subscription renewal cancel plan upgrade downgrade email phone "
    "verify identity receipt total amount balance credit store online checkout cart item size colour "
    "please thanks sorry help need want can could would should when where why how what which today "
    "yesterday tomorrow again already still soon late early quickly arrived broken wrong twice never"
).split()
PASS_THRESHOLD = 70.0
RESULT_CHUNK = 2000


@dataclass(slots=True)
class SeededSuite:
    """What `seed_suite` stored: the suite, its runs (oldest first) and how many results each run has."""

    suite_id: uuid.UUID
    run_ids: list[uuid.UUID] = field(default_factory=list)
    results_per_run: int = 0
    overrides_per_run: int = 0


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + "."


def _text(rng: random.Random, sentences: tuple[int, int], words: tuple[int, int] = (6, 18)) -> str:
    return " ".join(_sentence(rng, *words) for _ in range(rng.randint(*sentences)))


def _case(rng: random.Random, index: int) -> dict[str, Any]:
    order = f"A{1000 + index % 9000}"
    calls = [{"name": "lookup_order", "arguments": {"order_id": order}}]
    if rng.random() < 0.3:
        calls.append(
            {"name": "issue_refund", "arguments": {"order_id": order, "amount": round(rng.uniform(5, 900), 2)}}
        )
    return {
        "input_message": f"{_text(rng, (1, 4))} Order {order}, case {index}.",
        "expected_behavior": _text(rng, (1, 2)),
        "expected_tool_calls": calls,
        "tags": rng.sample(TAGS, k=rng.randint(1, 3)),
    }


def _verdicts(rng: random.Random, score: float, calls_ok: bool) -> list[dict[str, Any]]:
    judge = round(min(1.0, max(0.0, score / 100 + rng.uniform(-0.1, 0.1))), 3)
    return [
        {
            "evaluator": "judge",
            "status": "passed" if judge >= 0.7 else "failed",
            "score": judge,
            "passed": judge >= 0.7,
            "reason": _text(rng, (2, 5)),
            "judge_tokens": rng.randint(200, 900),
            "error": None,
            "details": {},
        },
        {
            "evaluator": "tools",
            "status": "passed" if calls_ok else "failed",
            "score": 1.0 if calls_ok else 0.0,
            "passed": calls_ok,
            "reason": "1/1 expected tool call(s) matched." if calls_ok else "0/1 expected tool call(s) matched.",
            "judge_tokens": 0,
            "error": None,
            "details": {},
        },
    ]


def _result(
    rng: random.Random, base: dict[str, Any], case: dict[str, Any], quality: float, override: bool
) -> dict[str, Any]:
    row = {**base, "judge_tokens": 0, "overrides": [], "original_score": None, "created_at": utcnow()}
    if rng.random() < 0.03:
        return {
            **row,
            "status": "error",
            "score": None,
            "score_reason": "The agent call failed: HTTP 503 from the agent",
            "agent_response": None,
            "tool_calls_made": [],
            "latency_ms": None,
            "tokens_used": None,
            "evaluator_results": [],
            "error": "HTTP 503 from the agent",
        }
    score = round(min(100.0, max(0.0, rng.gauss(quality, 18))), 2)
    calls_ok = score >= 50
    verdicts = _verdicts(rng, score, calls_ok)
    row.update(
        status="passed" if score >= PASS_THRESHOLD else "failed",
        score=score,
        score_reason=f"Score {score:g} against the pass threshold {PASS_THRESHOLD:g}. {_text(rng, (1, 2))}",
        agent_response=_text(rng, (3, 12)),
        tool_calls_made=case["expected_tool_calls"][: 1 if calls_ok else 0],
        latency_ms=round(rng.lognormvariate(6.5, 0.5), 3),
        tokens_used=rng.randint(80, 1200),
        judge_tokens=sum(v["judge_tokens"] for v in verdicts),
        evaluator_results=verdicts,
        error=None,
    )
    if override:
        new = 100.0 if score < PASS_THRESHOLD else 40.0
        row["overrides"] = [
            {
                "score": new,
                "previous_score": score,
                "reason": "Reviewed by hand: " + _sentence(rng, 5, 12),
                "by": "reviewer",
                "at": utcnow().isoformat(),
            }
        ]
        row.update(original_score=score, score=new, status="passed" if new >= PASS_THRESHOLD else "failed")
    return row


async def seed_suite(
    sessionmaker: SessionFactory,
    *,
    environment_id: uuid.UUID,
    secret_key: str,
    cases: int = 10_000,
    runs: int = 2,
    override_every: int = 50,
    name: str = "seeded suite",
    seed: int = 0,
) -> SeededSuite:
    """A suite of `cases` test cases with `runs` completed runs of one result per case (every
    `override_every`-th result overridden by hand), each run a little better than the one before."""
    rng = random.Random(seed)
    case_fields = [_case(rng, i) for i in range(cases)]
    async with sessionmaker() as session:
        instance = await instance_store.create_instance(
            session=session,
            environment_id=environment_id,
            name=f"{name} agent",
            kind="openai_chat",
            config={"base_url": "http://127.0.0.1:9/v1", "model": "agent-model"},
            secrets={},
            secret_key=secret_key,
        )
        items = [
            {"evaluator": {"type": "llm_judge", "name": "judge", "prompt": "Is the reply right? {{output}}"}},
            {"evaluator": {"type": "tool_call_match", "name": "tools"}, "weight": 2},
        ]
        recipe = await recipe_store.create_recipe(
            session=session,
            environment_id=environment_id,
            fields={"name": f"{name} recipe", "items": items, "pass_threshold": PASS_THRESHOLD},
        )
        suite = await suite_store.create_suite(
            session=session,
            environment_id=environment_id,
            fields={
                "name": name,
                "description": f"{cases} seeded cases",
                "instance_id": instance.id,
                "recipe_id": recipe.id,
                "config": {"concurrency": 8},
            },
        )
        ids = await insert_test_cases(
            session=session, environment_id=environment_id, suite_id=suite.id, cases=case_fields
        )
        await session.commit()
        seeded = SeededSuite(suite_id=suite.id, results_per_run=cases)
    snapshot_cases = [{"id": str(i), **c} for i, c in zip(ids, case_fields, strict=True)]
    snapshot = {
        "recipe": {"items": items, "pass_threshold": PASS_THRESHOLD},
        "instance_kind": "openai_chat",
        "cases": snapshot_cases,
        "repetitions": 1,
        "concurrency": 8,
        "concurrency_limits": {"requested": 8, "effective": 8, "limited_by": [], "note": None},
    }
    for number in range(runs):
        seeded.run_ids.append(
            await _seed_run(
                sessionmaker,
                rng,
                environment_id,
                seeded.suite_id,
                snapshot,
                quality=72.0 + 3 * number,
                override_every=override_every,
            )
        )
    seeded.overrides_per_run = len(range(0, cases, override_every)) if override_every else 0
    return seeded


async def _seed_run(
    sessionmaker: SessionFactory,
    rng: random.Random,
    environment_id: uuid.UUID,
    suite_id: uuid.UUID,
    snapshot: dict[str, Any],
    *,
    quality: float,
    override_every: int,
) -> uuid.UUID:
    started = utcnow()
    async with sessionmaker() as session:
        run = await run_store.create_run(
            session=session,
            environment_id=environment_id,
            suite_id=suite_id,
            snapshot=RunSnapshot.from_json({"instance": "", **snapshot}),
        )
        run.status, run.started_at = "running", started
        await session.commit()
        run_id = run.id
    base = {"run_id": run_id, "suite_id": suite_id, "environment_id": environment_id, "repetition": 0}
    cases = snapshot["cases"]
    for start in range(0, len(cases), RESULT_CHUNK):
        rows = [
            _result(
                rng,
                {**base, "test_case_id": uuid.UUID(case["id"])},
                case,
                quality,
                override=bool(override_every) and (start + offset) % override_every == 0,
            )
            for offset, case in enumerate(cases[start : start + RESULT_CHUNK])
        ]
        async with sessionmaker() as session:
            await store_result_rows(session=session, run_id=run_id, rows=rows, lease=timedelta(minutes=5))
            await session.commit()
    async with sessionmaker() as session:
        row = await get_run_by_id(session=session, run_id=run_id)
        assert row is not None
        finished = started + timedelta(seconds=len(cases) / 50)
        summary = await compute_summary(
            session,
            run_id,
            total_cases=row.total_cases,
            started_at=started,
            finished_at=finished,
            concurrency=snapshot["concurrency_limits"],
        )
        await record_finish(session=session, row=row, status=RunStatus.COMPLETED, finished_at=finished, summary=summary)
        await refresh_suite(session=session, suite_id=suite_id)
        await session.commit()
    return run_id
