"""Runs of one suite stored straight through storage functions, for comparison pages at any size."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from assay.storage import runs as run_store
from assay.storage import suites as suite_store
from assay.storage.db import make_sessionmaker
from assay.storage.run_results import store_result_rows
from tests.web.conftest import snapshot_of


@dataclass
class StoredRuns:
    suite_id: str
    run_ids: list[str]  # oldest first
    case_ids: list[str]


def result(
    case: int, score: float | None, *, rep: int = 0, status: str | None = None, response: str = "", reason: str = ""
) -> dict[str, Any]:
    """One result of case number `case`: status from the score (≥ 70 passes) unless given."""
    return {
        "case": case,
        "repetition": rep,
        "status": status or ("passed" if score is not None and score >= 70 else "failed"),
        "score": score,
        "agent_response": response or f"answer {case} repetition {rep}",
        "score_reason": reason or f"reason for {case}",
    }


async def store_runs(
    app: Any, environment_id: str, runs: list[list[dict[str, Any]]], *, cases: int, make_cases: bool = True
) -> StoredRuns:
    """A suite with `cases` test cases (or bare case ids when `make_cases` is false) and one stored run per
    list of results, in order (the last is the newest)."""
    env_id = uuid.UUID(environment_id)
    async with make_sessionmaker(app.state.engine)() as session:
        suite = await suite_store.create_suite(session=session, environment_id=env_id, fields={"name": "stored suite"})
        if make_cases:
            case_ids = [
                str(
                    (
                        await suite_store.create_test_case(
                            session=session,
                            environment_id=env_id,
                            suite_id=suite.id,
                            fields={"input_message": f"question {i}", "sort_order": i},
                        )
                    ).id
                )
                for i in range(cases)
            ]
        else:
            case_ids = [str(uuid.uuid4()) for _ in range(cases)]
        await session.commit()
        run_ids = []
        for results in runs:
            run = await run_store.create_run(
                session=session,
                environment_id=env_id,
                suite_id=suite.id,
                snapshot=snapshot_of({"cases": [{"id": c} for c in case_ids], "repetitions": 1}),
            )
            rows = [
                {
                    "run_id": run.id,
                    "suite_id": suite.id,
                    "environment_id": env_id,
                    "test_case_id": uuid.UUID(case_ids[r["case"]]),
                    "repetition": r["repetition"],
                    "status": r["status"],
                    "score": r["score"],
                    "score_reason": r["score_reason"],
                    "agent_response": r["agent_response"],
                    "latency_ms": 100.0 + r["case"],
                    "tokens_used": 10,
                    "evaluator_results": [],
                    "tool_calls_made": [],
                    "overrides": [],
                    "judge_tokens": 0,
                }
                for r in results
            ]
            await store_result_rows(session=session, run_id=run.id, rows=rows, lease=timedelta(seconds=60))
            run.status = "completed"
            await session.commit()
            run_ids.append(str(run.id))
        return StoredRuns(str(suite.id), run_ids, case_ids)
