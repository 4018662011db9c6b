"""Migration 0005 fills `verdict` of runs completed before it, so the per-evaluation counts include them."""

from __future__ import annotations

import json
import sqlite3
import uuid

from assay.storage.db import make_engine
from assay.storage.migrate import upgrade


async def test_verdict_is_backfilled_from_stored_results(tmp_path) -> None:
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine, "0004")
        runs = {
            "pass": ("completed", {"verdict": True, "reasoning": ""}),
            "fail": ("completed", {"verdict": False, "reasoning": ""}),
            "na": ("completed", {"verdict": None, "reasoning": "", "applicable": False}),
            "skip": ("skipped", {"verdict": None, "skipped": True}),
            "err": ("failed", None),
        }
        with sqlite3.connect(path) as conn:  # foreign keys are off on a plain connection: no parents needed
            for name, (status, result) in runs.items():
                conn.execute(
                    "INSERT INTO evaluation_runs (workflow_id, environment_id, evaluator_id, event_uuid, event_seq, "
                    "source, status, result, attempts, created_at) VALUES (?, ?, ?, ?, 1, 'online', ?, ?, 1, "
                    "'2026-01-01 00:00:00.000000')",
                    (
                        name,
                        uuid.uuid4().hex,
                        uuid.uuid4().hex,
                        uuid.uuid4().hex,
                        status,
                        None if result is None else json.dumps(result),
                    ),
                )
        await upgrade(engine)
        with sqlite3.connect(path) as conn:
            got = dict(conn.execute("SELECT workflow_id, verdict FROM evaluation_runs"))
        assert got == {"pass": 1, "fail": 0, "na": None, "skip": None, "err": None}
    finally:
        await engine.dispose()
