"""`assay demo` end to end: under a minute, a report, and two runs of the suite left in the database."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from tests.cli_run.conftest import run_cli


def test_demo_runs_offline_and_stores_the_run(tmp_path: Path) -> None:
    started = time.monotonic()
    r = run_cli(tmp_path, "demo", timeout=90)
    elapsed = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    assert elapsed < 60, f"assay demo took {elapsed:.1f}s"
    report = tmp_path / "assay-report.html"
    assert report.is_file() and "<svg" in report.read_text()
    assert "order support (demo)" in r.stdout and "14 passed, 2 failed, 0 errors" in r.stdout
    assert str(report) in r.stdout.replace("\n", "")

    db = sqlite3.connect(tmp_path / "assay.db")
    rows = db.execute(
        "SELECT runs.status, runs.total_cases, environments.name FROM runs "
        "JOIN environments ON environments.id = runs.environment_id ORDER BY runs.created_at"
    ).fetchall()
    assert rows == [("completed", 16, "demo"), ("completed", 16, "demo")]
    passed = db.execute("SELECT json_extract(summary, '$.passed') FROM runs ORDER BY created_at").fetchall()
    assert passed == [(11,), (14,)]  # the agent's previous release, then the agent: two runs to compare
    stops = db.execute(
        "SELECT json_extract(transcript, '$.stop_reason') FROM results JOIN runs ON runs.id = results.run_id "
        "WHERE results.transcript IS NOT NULL ORDER BY runs.created_at, results.id"
    ).fetchall()
    assert sorted(s for (s,) in stops[3:]) == ["done", "done", "goal_met"]  # the conversations of the agent's run
    suites = db.execute("SELECT name, status FROM suites").fetchall()
    assert suites == [("order support (demo)", "completed")]
