"""Runs with many stored results, written with storage functions (no agent calls), for run-page tests and timings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from assay.domain.runs import RunSnapshot
from assay.engine.runs.summary import compute_summary
from assay.storage import runs as run_store
from assay.storage import suites as suite_store
from assay.storage.db import SessionFactory
from assay.storage.run_execution import record_finish
from assay.storage.run_results import store_result_rows
from assay.storage.tables import TestCaseRow
from assay.storage.types import utcnow

STATUSES = ("passed", "passed", "failed", "error", "passed", "unscored", "failed")
TAGS = ("billing", "refunds", "shipping", "smalltalk")
HOSTILE = "<script>alert('owned')</script> & <b>bold</b>"


@dataclass
class SeededRun:
    """A stored run: its id, its suite's id and the ids of its cases in order."""

    run_id: uuid.UUID
    suite_id: uuid.UUID
    case_ids: list[uuid.UUID] = field(default_factory=list)


def case_fields(i: int) -> dict[str, Any]:
    tags = [TAGS[i % len(TAGS)]] + (["vip"] if i % 5 == 0 else [])
    expected = [{"name": "lookup_order", "arguments": {"order_id": str(i)}}] if i % 3 == 0 else None
    return {
        "input_message": HOSTILE if i == 1 else f"question {i:05d}: where is order {i}?",
        "expected_behavior": "answers politely",
        "expected_tool_calls": expected,
        "tags": tags,
        "sort_order": i,
    }


def result_fields(i: int, case: dict[str, Any]) -> dict[str, Any]:
    status = STATUSES[i % len(STATUSES)]
    score = None if status in ("error", "unscored") else float((i * 37) % 101)
    if status == "passed" and score is not None and score < 70:
        score = 70.0 + score % 30
    if status == "failed" and score is not None and score >= 70:
        score = score % 70
    made = [{"name": "lookup_order", "arguments": {"order_id": str(i if i % 2 else i + 1)}}] if i % 3 == 0 else []
    verdicts = [
        {
            "evaluator": "judge",
            "status": "passed" if status == "passed" else "failed",
            "score": 1.0 if status == "passed" else 0.0,
            "passed": status == "passed",
            "reason": f"The judge reasons about case {i} at length. " + ("<script>x()</script>" if i == 1 else ""),
            "judge_tokens": 40,
            "error": None,
            "details": {},
        },
        {
            "evaluator": "tool_calls",
            "status": "not_applicable" if i % 3 else ("passed" if i % 2 else "failed"),
            "score": None,
            "passed": None,
            "reason": "tool calls compared",
            "judge_tokens": 0,
            "error": None,
            "details": {},
        },
    ]
    return {
        "status": status,
        "score": score,
        "score_reason": f"reason {i}: " + ("fine" if status == "passed" else "not fine"),
        "agent_response": HOSTILE if i == 1 else f"response {i:05d} about order {i}",
        "tool_calls_made": made,
        "latency_ms": None if status == "error" else float(100 + (i * 53) % 900),
        "tokens_used": None if status == "error" else 20 + i % 30,
        "judge_tokens": 0 if status in ("error", "unscored") else 40,
        "evaluator_results": [] if status in ("error", "unscored") else verdicts,
        "error": "the agent timed out" if status == "error" else None,
    }


async def seed_run(
    sessionmaker: SessionFactory,
    environment_id: uuid.UUID,
    n: int,
    *,
    status: str = "completed",
    stored: int | None = None,
) -> SeededRun:
    """A suite of `n` cases and one run of it with `stored` (default all) results; finished unless `status` says not."""
    stored = n if stored is None else stored
    async with sessionmaker() as session:
        suite = await suite_store.create_suite(
            session=session, environment_id=environment_id, fields={"name": f"seeded {n}", "config": {}}
        )
        fields = [case_fields(i) for i in range(n)]
        ids = [uuid.uuid4() for _ in range(n)]
        rows = [{"id": ids[i], "environment_id": environment_id, "suite_id": suite.id, **fields[i]} for i in range(n)]
        for start in range(0, n, 500):
            await session.execute(insert(TestCaseRow), rows[start : start + 500])
        snapshot = {
            "cases": [
                {"id": str(ids[i]), **{k: v for k, v in fields[i].items() if k != "sort_order"}} for i in range(n)
            ],
            "repetitions": 1,
            "concurrency": 8,
            "concurrency_limits": {
                "requested": 8,
                "effective": 4,
                "instance_max_concurrency": 4,
                "judge_max_concurrency": None,
                "limited_by": ["instance"],
                "note": "At most 4 cases run at once: the instance's max_concurrency (4) caps the requested concurrency 8.",
            },
            "recipe": {"pass_threshold": 70.0},
        }
        run = await run_store.create_run(
            session=session,
            environment_id=environment_id,
            suite_id=suite.id,
            snapshot=RunSnapshot.from_json({"instance": "", **snapshot}),
        )
        run.status = "running"
        run.started_at = utcnow() - timedelta(seconds=42)
        results = [
            {
                "run_id": run.id,
                "suite_id": suite.id,
                "environment_id": environment_id,
                "test_case_id": ids[i],
                "repetition": 0,
                **result_fields(i, fields[i]),
            }
            for i in range(stored)
        ]
        if results:
            await store_result_rows(session=session, run_id=run.id, rows=results, lease=timedelta(seconds=30))
        if status == "completed":
            finished = utcnow()
            summary = await compute_summary(
                session,
                run.id,
                total_cases=n,
                started_at=run.started_at,
                finished_at=finished,
                concurrency=snapshot["concurrency_limits"],
            )
            await record_finish(session=session, row=run, status="completed", finished_at=finished, summary=summary)
        else:
            run.status = status
        await session.commit()
        return SeededRun(run.id, suite.id, ids)
