"""`assay demo`: run the bundled order-support suite locally and write an HTML report (no key, no network).

Two runs are stored: the agent's previous release first, then the current agent, so the web UI has a suite
with a run history and two runs to compare as soon as `assay serve` starts.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from assay.cli.run import err_console, execute, print_outcome, write_outputs
from assay.errors import DomainError

DEMO_SUITE = "order_support/suite.yaml"
PREVIOUS_AGENT = "assay.examples.order_support.agent:respond_previous"


def demo_suite_path() -> Path:
    """Where the bundled suite file is (inside the installed package)."""
    return Path(str(resources.files("assay.examples").joinpath(DEMO_SUITE)))


def demo(
    report: Annotated[Path, typer.Option("--html", help="Where to write the HTML report.")] = Path("assay-report.html"),
    environment: Annotated[str, typer.Option("--environment", "-e", help="Environment to store the runs in.")] = "demo",
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write results as JSON.")] = None,
) -> None:
    """Evaluate a bundled order-support agent (16 cases: three of them conversations) and write assay-report.html; `assay serve` shows the runs."""
    from assay.local.suitefile import SuiteFileError, load_suite

    try:
        suite = load_suite(demo_suite_path())
        current = dict(suite.instance)
        suite.instance = {**current, "callable": PREVIOUS_AGENT}
        baseline = execute(suite, repetitions=None, environment=environment, show_progress=False)
        suite.instance = current
        outcome = execute(suite, repetitions=None, environment=environment)
    except (SuiteFileError, DomainError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    write_outputs(outcome, json_path=json_path, junit=None, html=report)
    console = Console()
    print_outcome(console, outcome)
    console.print(f"report: [bold]{report.resolve()}[/bold]")
    console.print(
        f"suite file: {demo_suite_path()}\n"
        f"stored in environment {environment!r}: run {outcome.run_id} of the agent, after run {baseline.run_id} of its"
        " previous release; `assay serve` shows both in the web UI at / (and under /v1/evaluations)"
    )
