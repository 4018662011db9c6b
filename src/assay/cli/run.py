"""`assay run SUITE.yaml`: run a suite file locally (embedded database, no server) or on a server.

Exit codes: 0 the run met its gates; 1 a gate failed (`--fail-under`, `--max-errors`) or the run failed;
2 invalid input (suite file, flags, a python instance or evaluator with `--server`, a judge without a model);
3 nothing could be scored: cases errored and none passed or failed (unless `--max-errors` allows those errors).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from assay.errors import DomainError

if TYPE_CHECKING:
    from assay.local.gates import Gate
    from assay.local.outcome import RunOutcome
    from assay.local.suitefile import SuiteFile

err_console = Console(stderr=True)
MAX_TABLE_ROWS = 200
EXIT_NOTHING_SCORED = 3


def parse_gate(text: str) -> Gate:
    """`--fail-under` text as a gate (see `assay.local.gates.parse_gate`)."""
    from assay.local.gates import parse_gate as local_gate

    try:
        return local_gate(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


class RateColumn(ProgressColumn):
    """Cases per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f}/s" if speed else "–/s", style="progress.data.speed")


def make_progress(console: Console) -> Progress:
    """done / total, errors, rate and ETA."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f}"),
        TextColumn("[red]{task.fields[errors]} errors"),
        RateColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def _status_style(status: str) -> str:
    return {"passed": "green", "failed": "red", "error": "yellow"}.get(status, "dim")


def _short_reason(status: str, lines: list[str]) -> str:
    """The summary line for a pass; for anything else the evaluators that decided it."""
    shown = lines[:1] if status == "passed" else (lines[1:3] or lines[:1])
    text = " · ".join(shown)
    return text if len(text) <= 140 else text[:139] + "…"


def _mean(summary: dict[str, object]) -> str:
    mean, scored = summary.get("mean_score"), summary.get("scored")
    shown = f"{mean:g}" if isinstance(mean, int | float) else "–"
    return f"{shown} (over {scored} scored)" if isinstance(scored, int) else shown


def _concurrency(summary: dict[str, object]) -> str:
    limits = summary.get("concurrency")
    if not isinstance(limits, dict) or "effective" not in limits:
        return ""
    effective, requested = limits.get("effective"), limits.get("requested")
    return f" · concurrency {effective}" + (f" of {requested} requested" if effective != requested else "")


def nothing_scored(outcome: RunOutcome) -> str | None:
    """Why nothing in the run could be scored (cases errored and none passed or failed), else None."""
    s = outcome.summary
    errors = int(s.get("error", 0) or 0)
    if not errors or int(s.get("passed", 0) or 0) + int(s.get("failed", 0) or 0):
        return None
    first = next((r.get("error") or r.get("reason") for r in outcome.results if r.get("status") == "error"), None)
    message = f"nothing could be scored: {errors} of {len(outcome.results)} results errored and none passed or failed"
    return f"{message} (first error: {first})" if first else message


def print_outcome(console: Console, outcome: RunOutcome) -> None:
    """The per-case table, then the summary line."""
    table = Table(title=f"{outcome.suite}  (run {outcome.run_id})", show_lines=False)
    for column, justify in (
        ("case", "left"),
        ("rep", "right"),
        ("status", "left"),
        ("score", "right"),
        ("latency ms", "right"),
        ("reason", "left"),
    ):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in outcome.results[:MAX_TABLE_ROWS]:
        reason = [line for line in (r.get("reason") or r.get("error") or "").splitlines() if line.strip()]
        table.add_row(
            r["name"],
            str(r["repetition"] + 1),
            f"[{_status_style(str(r['status']))}]{r['status']}[/]",
            "–" if r["score"] is None else f"{r['score']:g}",
            "–" if r["latency_ms"] is None else f"{r['latency_ms']:.0f}",
            _short_reason(str(r["status"]), reason),
        )
    console.print(table)
    if len(outcome.results) > MAX_TABLE_ROWS:
        console.print(f"… and {len(outcome.results) - MAX_TABLE_ROWS} more results (see --json / --html)")
    s = outcome.summary
    rate = s.get("pass_rate")
    console.print(
        f"[bold]{outcome.status}[/bold]: {s.get('passed', 0)} passed, {s.get('failed', 0)} failed, "
        f"{s.get('error', 0)} errors, {s.get('unscored', 0)} unscored · pass rate "
        f"{'–' if rate is None else f'{rate * 100:.1f}%'} · mean score {_mean(s)} · "
        f"p50 {s.get('latency_p50_ms', '–')} ms · {s.get('duration_s', '–')} s{_concurrency(s)}"
    )
    note = (s.get("concurrency") or {}).get("note") if isinstance(s.get("concurrency"), dict) else None
    if note:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    consistency = outcome.consistency
    if consistency:
        table = Table(title="Consistency across repetitions", title_justify="left")
        for column in ("evaluator", "repeated cases", "score SD", "verdict flip rate"):
            table.add_column(column, justify="left" if column == "evaluator" else "right")
        for c in consistency:
            sd, flips = c["mean_score_sd"], c["flip_rate"]
            table.add_row(
                c["evaluator"],
                str(c["cases"]),
                "–" if sd is None else f"{sd:.2f}",
                "–" if flips is None else f"{flips * 100:.1f}%",
            )
        console.print(table)


def execute(
    suite: SuiteFile,
    *,
    repetitions: int | None,
    environment: str,
    server: str | None = None,
    api_key: str | None = None,
    show_progress: bool = True,
) -> RunOutcome:
    """Run the suite locally (or on `server`) with a progress bar on stderr."""
    from assay.local.remote import run_remote
    from assay.local.runner import run_local
    from assay.sandbox.shared import configure as configure_sandbox
    from assay.settings import get_settings
    from assay.trusted_code import enable_trusted_code

    progress = make_progress(err_console)
    task_id = progress.add_task(suite.name, total=len(suite.cases) * (repetitions or suite.repetitions), errors=0)

    def report(done: int, errors: int, total: int) -> None:
        progress.update(task_id, completed=done, total=total, errors=errors)

    callback = report if show_progress else None
    with progress if show_progress else _Null():
        if server:
            return asyncio.run(run_remote(suite, server, api_key or "", repetitions=repetitions, progress=callback))
        enable_trusted_code()
        configure_sandbox(get_settings().sandbox_pool_config())  # for `python` items with `source`
        folder = str(suite.path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)

        async def local() -> RunOutcome:
            # Sync python callables (and Hog) run in the loop's default thread pool, min(32, CPUs + 4) threads
            # unless told otherwise: sized to the suite's concurrency, it is no silent cap on it.
            threads = ThreadPoolExecutor(max_workers=suite.concurrency + 4, thread_name_prefix="assay-run")
            asyncio.get_running_loop().set_default_executor(threads)
            return await run_local(
                suite, get_settings(), environment=environment, repetitions=repetitions, progress=callback
            )

        return asyncio.run(local())


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def write_outputs(outcome: RunOutcome, *, json_path: Path | None, junit: Path | None, html: Path | None) -> None:
    """Write the requested report files."""
    from assay.local.html_report import write_html
    from assay.local.junit import write_junit

    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(outcome.to_json(), indent=2, default=str), encoding="utf-8")
    if junit:
        write_junit(outcome, junit)
    if html:
        write_html(outcome, html)


def _fail(message: str, code: int) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def run(
    suite_file: Annotated[Path, typer.Argument(metavar="SUITE.yaml", help="The suite file (see docs/suite-files.md).")],
    repeat: Annotated[int | None, typer.Option("--repeat", min=1, max=100, help="Repetitions of every case.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write results and summary as JSON.")] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write a JUnit XML report.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report.")] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option("--fail-under", help="Exit 1 below this: 0.8 / pass_rate=0.8 (pass rate) or score=70 (mean)."),
    ] = None,
    max_errors: Annotated[int | None, typer.Option("--max-errors", min=0, help="Exit 1 with more errors.")] = None,
    server: Annotated[str | None, typer.Option("--server", help="Run on this Assay server instead.")] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="ASSAY_API_KEY", help="Key for --server.")] = None,
    environment: Annotated[str, typer.Option("--environment", "-e", help="Local environment.")] = "local",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no table.")] = False,
    dataset_revision: Annotated[
        int | None,
        typer.Option("--dataset-revision", min=1, help="Read the suite's dataset at this revision (pins it)."),
    ] = None,
) -> None:
    """Run a suite file: locally on the embedded database (default) or on a server (--server)."""
    from assay.local.gates import gate_problems
    from assay.local.suitefile import SuiteFileError, load_suite

    try:
        gates = [parse_gate(g) for g in fail_under or []]
    except typer.BadParameter as exc:
        raise _fail(f"--fail-under {exc}", 2) from None
    if server and not api_key:
        raise _fail("--server needs --api-key (or ASSAY_API_KEY)", 2)
    try:
        suite = load_suite(suite_file)
    except SuiteFileError as exc:
        raise _fail("invalid suite file\n" + "\n".join(f"  {p}" for p in exc.problems), 2) from None
    if dataset_revision is not None:
        if not suite.dataset:
            raise _fail("--dataset-revision needs a suite file with `dataset:`", 2)
        suite.dataset_revision = dataset_revision
    if server and suite.instance_kind == "python":
        raise _fail("a python instance runs local code and cannot run on a server: drop --server", 2)
    if server and suite.has_python_evaluators:
        raise _fail("python evaluators run local code and cannot run on a server: drop --server", 2)
    started = time.monotonic()
    try:
        outcome = execute(
            suite, repetitions=repeat, environment=environment, server=server, api_key=api_key, show_progress=not quiet
        )
    except DomainError as exc:
        raise _fail(exc.message, 2) from None
    except Exception as exc:  # noqa: BLE001 - a server refusal or an unreachable server
        raise _fail(f"{type(exc).__name__}: {exc}", 1) from None
    write_outputs(outcome, json_path=json_path, junit=junit, html=html)
    if not quiet:
        print_outcome(Console(), outcome)
    problems = gate_problems(outcome.summary, gates, max_errors=max_errors, status=outcome.status, error=outcome.error)
    errors = int(outcome.summary.get("error", 0) or 0)
    unscorable = nothing_scored(outcome)
    if unscorable and (max_errors is None or errors > max_errors):
        raise _fail("; ".join([unscorable, *problems]), EXIT_NOTHING_SCORED)
    if problems:
        raise _fail("; ".join(problems), 1)
    err_console.print(f"done in {time.monotonic() - started:.1f}s", style="dim")
