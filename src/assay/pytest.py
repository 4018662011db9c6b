"""The pytest plugin: evals as tests, one test per case (`-p assay.pytest`, or installed through its entry point).

It collects

- every module-level `assay.evals.EvalSuite` of a test module, and
- suite files (YAML) named on the command line or matching the `assay_suite_files` ini patterns
  (default `assay_*.yaml assay_*.yml`).

Each suite runs once, with the run engine, when its first case's test runs; each case's test then passes,
fails (with the score and the reason) or is skipped (nothing to score). The terminal summary shows each run's
summary line. The gates of `assay run` fail the session: `--assay-fail-under 0.8` (pass rate),
`--assay-fail-under score=70` (mean score), `--assay-max-errors N`; with a gate given, a failing case is
reported as xfail and the gates alone decide. `--assay-store local` keeps the runs in the local database.

Loading the plugin imports only the `assay` package (the SDK); the engine is imported when a suite is
collected, so the plugin costs other test runs little.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from assay.evals import EvalReport, EvalSuite

_RESULTS = pytest.StashKey[list[tuple[str, "EvalReport | None", list[str]]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("assay", "Assay evals")
    group.addoption(
        "--assay-fail-under",
        action="append",
        default=[],
        metavar="GATE",
        help="Fail the session below this: 0.8 / pass_rate=0.8 (pass rate) or score=70 (mean score).",
    )
    group.addoption("--assay-max-errors", type=int, default=None, metavar="N", help="Fail with more errors.")
    group.addoption(
        "--assay-store",
        default="temporary",
        metavar="WHERE",
        help="Where runs are kept: temporary (default), local (ASSAY_DATABASE_URL), or a database URL.",
    )
    parser.addini(
        "assay_suite_files", "Suite files collected as evals", type="args", default=["assay_*.yaml", "assay_*.yml"]
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RESULTS] = []
    gates = config.getoption("assay_fail_under")
    if not gates:
        return
    from assay.local.gates import parse_gate

    for gate in gates:
        try:
            parse_gate(gate)
        except ValueError as exc:
            raise pytest.UsageError(f"--assay-fail-under {exc}") from None


def _gated(config: pytest.Config) -> bool:
    return bool(config.getoption("assay_fail_under")) or config.getoption("assay_max_errors") is not None


class CaseFailed(Exception):
    """A case of an eval failed or errored; the message is its score and reason."""


class _EvalRun:
    """One suite's run, started by the first of its tests and shared by all of them."""

    def __init__(self, config: pytest.Config, name: str, build: Callable[[], EvalSuite]) -> None:
        self.config = config
        self.name = name
        self.build = build
        self.report: EvalReport | None = None
        self.failure: str | None = None
        self.done = False

    def run(self) -> EvalReport:
        if not self.done:
            self.done = True
            try:
                suite = self.build()
                store = suite.options.get("store") or self.config.getoption("assay_store")
                self.report = suite.run_sync(store=store)
            except Exception as exc:  # noqa: BLE001 - shown on every case of the suite
                self.failure = f"{type(exc).__name__}: {exc}"
            problems = [self.failure] if self.failure else []
            if self.report is not None:
                problems = self.report.gate_problems(
                    self.config.getoption("assay_fail_under"), self.config.getoption("assay_max_errors")
                )
            self.config.stash[_RESULTS].append((self.name, self.report, problems))
        if self.report is None:
            raise CaseFailed(self.failure or "the evaluation did not run")
        return self.report


class EvalCaseItem(pytest.Item):
    """One case of an eval."""

    def __init__(self, *, run: _EvalRun, index: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.eval_run = run
        self.index = index

    def runtest(self) -> None:
        report = self.eval_run.run()
        rows = [c for c in report.cases if self.index is None or c.index == self.index]
        if not rows:
            raise CaseFailed(f"no result: the run {report.status}{f': {report.error}' if report.error else ''}")
        for row in rows:
            self.user_properties.append((f"score[{row.repetition}]", row.score))
        bad = [c for c in rows if c.status in ("failed", "error")]
        if not bad:
            if all(c.status == "unscored" for c in rows):
                pytest.skip(rows[0].reason or "nothing to score")
            return
        lines = []
        for c in bad:
            rep = f" (repetition {c.repetition + 1})" if len(rows) > 1 else ""
            score = "–" if c.score is None else f"{c.score:g}"
            lines.append(f"{c.name}{rep}: {c.status}, score {score}\n{c.reason or c.error or ''}")
        message = "\n".join(lines)
        if _gated(self.config):
            pytest.xfail(f"judged by the --assay gates: {message}")
        raise CaseFailed(message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.eval_run.name}::{self.name}"


def _items(parent: pytest.Collector, run: _EvalRun, suite: EvalSuite) -> Iterator[EvalCaseItem]:
    from assay.local.suitefile import case_label

    cases = suite.dataset.cases
    if not cases:  # cases from a stored dataset are known only when the run starts
        yield EvalCaseItem.from_parent(parent, name="all cases", run=run, index=None)
        return
    seen: set[str] = set()
    for index, case in enumerate(cases):
        name = case_label(case.to_dict(), index)
        if name in seen:
            name = f"{name} #{index + 1}"
        seen.add(name)
        yield EvalCaseItem.from_parent(parent, name=name, run=run, index=index)


class EvalSuiteCollector(pytest.Collector):
    """A module-level `EvalSuite`: its cases."""

    def __init__(self, *, suite: EvalSuite, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suite = suite

    def collect(self) -> Iterator[EvalCaseItem]:
        run = _EvalRun(self.config, self.suite.name, lambda: self.suite)
        yield from _items(self, run, self.suite)


class SuiteFileCollector(pytest.File):
    """A suite file: its cases."""

    def collect(self) -> Iterator[EvalCaseItem]:
        from assay.evals import EvalSuite
        from assay.local.suitefile import SuiteFileError

        try:
            suite = EvalSuite.from_suite(self.path)
        except SuiteFileError as exc:
            raise self.CollectError(f"invalid suite file\n{exc}") from None
        run = _EvalRun(self.config, suite.name, lambda: suite)
        yield from _items(self, run, suite)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    patterns = parent.config.getini("assay_suite_files")
    if parent.session.isinitpath(file_path) or any(fnmatch.fnmatch(file_path.name, p) for p in patterns):
        return SuiteFileCollector.from_parent(parent, path=file_path)
    return None


def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> pytest.Collector | None:
    suites = sys.modules.get("assay.evals._suite")  # imported only when the test module uses it
    if suites is not None and isinstance(obj, suites.EvalSuite):
        return EvalSuiteCollector.from_parent(collector, name=name, suite=obj)
    return None


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash.get(_RESULTS, [])
    if not results:
        return
    terminalreporter.section("assay evals")
    for name, report, problems in results:
        if report is not None:
            where = f" · stored in {report.stored_in}" if report.stored_in else ""
            terminalreporter.write_line(f"{name} (run {report.run_id}) {report.status}: {report.summary.line()}{where}")
        for problem in problems:
            terminalreporter.write_line(f"  gate failed: {problem}", red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    results = session.config.stash.get(_RESULTS, [])
    if any(problems for _, _, problems in results) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
