"""`assay.evals` from a plain script (its stored runs compared by `assay compare`) and as a pytest plugin.

The three processes start together (one fixture) so their start-up costs overlap.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assay.cli.main import app
from assay.settings import get_settings

DATA = Path(__file__).parent / "data"
SRC = Path(__file__).resolve().parents[2] / "src"
COPIES = {
    "eval_checks.py": "eval_checks.py",
    "script.py": "script.py",
    "toy_evals.py": "test_toy_evals.py",
    "toy_suite.yaml": "assay_toy.yaml",
}


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Processes:
    folder: Path
    database_url: str
    script: Finished
    plain: Finished
    gated: Finished


def _start(folder: Path, database_url: str, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "PYTEST_"))}
    env.update({"ASSAY_DATABASE_URL": database_url, "PYTHONPATH": f"{folder}{os.pathsep}{SRC}", "COLUMNS": "200"})
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the other installed plugins would double the start-up time
    return subprocess.Popen(
        [sys.executable, *args], cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _pytest(*extra: str) -> list[str]:
    return ["-m", "pytest", "-p", "assay.pytest", "-p", "no:cacheprovider", "-q", *extra]


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    folders = {}
    for name in ("script", "plain", "gated"):
        folder = tmp_path_factory.mktemp(name)
        # Named here as pytest and the plugin collect them; in tests/ they must not be collected.
        for item, named in COPIES.items():
            shutil.copy(DATA / item, folder / named)
        folders[name] = folder
    url = f"sqlite+aiosqlite:///{folders['script'] / 'assay.db'}"
    started = {
        "script": _start(folders["script"], url, "script.py"),
        "plain": _start(folders["plain"], url + ".unused", *_pytest()),
        "gated": _start(
            folders["gated"],
            url + ".unused",
            *_pytest("--assay-fail-under", "0.6", "--assay-fail-under", "score=90", "-rx"),
        ),
    }
    done = {}
    for name, process in started.items():
        out, err = process.communicate(timeout=100)
        done[name] = Finished(process.returncode, out, err)
    yield Processes(folders["script"], url, **done)


def test_plain_script_stores_runs_that_assay_compare_pairs(processes: Processes, monkeypatch) -> None:  # noqa: ANN001
    script = processes.script
    assert script.returncode == 0, script.stderr
    assert "script suite" in script.stdout and "passed" in script.stdout  # report.print()
    _, base, head, base_passed, head_passed, where = next(
        line for line in script.stdout.splitlines() if line.startswith("RUNS ")
    ).split()
    assert (int(base_passed), int(head_passed)) == (6, 4) and where == processes.database_url
    monkeypatch.setenv("ASSAY_DATABASE_URL", processes.database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["compare", base, head, "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["base"]["task_id"] == base and body["head"]["task_id"] == head
    assert body["n_paired"] == 7 and len(body["regressed"]) == 2  # the same cases, paired across the two runs


def test_pytest_plugin_one_test_per_case(processes: Processes) -> None:
    plain = processes.plain
    assert plain.returncode == 1, plain.stdout + plain.stderr
    out = plain.stdout
    assert "FAILED test_toy_evals.py::greetings::forecast" in out
    assert "FAILED assay_toy.yaml::weather" in out
    assert "forecast: failed, score 0" in out and "Score 0 is below the pass threshold 70." in out
    assert "2 failed, 5 passed" in out  # 3 + 3 cases (a repeated name made unique) and the ordinary test
    assert "greetings (run " in out and "toy evals (run " in out and "pass rate 66.7%" in out
    assert "gate failed" not in out


def test_pytest_plugin_gates_fail_the_session(processes: Processes) -> None:
    gated = processes.gated
    out = gated.stdout
    assert gated.returncode == 1, out + gated.stderr
    assert "5 passed, 2 xfailed" in out and "FAILED" not in out
    assert "gate failed: score 66.67 is under --fail-under score=90" in out  # greetings: 100, 0, 100
    assert "pass_rate" not in out.split("assay evals")[1]  # the pass-rate gate (0.6) is met
