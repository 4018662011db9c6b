"""`assay doctor`: can this server run sandboxed Python evaluators, and which layer is missing if not."""

from __future__ import annotations

import dataclasses
import time

import typer
from rich.console import Console
from rich.table import Table


def doctor() -> None:
    """Start one sandbox worker with the configured limits and show what each layer reported.

    Exits with status 1 when a required layer (ASSAY_SANDBOX_REQUIRED_LAYERS) is unavailable: the server
    then refuses to create or run Python evaluators.
    """
    from assay.sandbox.lockdown import LAYERS
    from assay.sandbox.pool import SandboxPool
    from assay.sandbox.process import SandboxUnavailable, WorkerProcess
    from assay.settings import get_settings

    settings = get_settings()
    config = settings.sandbox_pool_config()
    console = Console()
    probe = dataclasses.replace(config.worker, required=())  # report every layer, refuse nothing yet
    try:
        worker = WorkerProcess(probe)
    except SandboxUnavailable as exc:
        console.print(f"[red]The sandbox worker does not start:[/red] {exc}")
        raise typer.Exit(1) from None
    layers = worker.layers
    started_ms = worker.start_ms
    worker.kill()
    table = Table("layer", "required", "status")
    for name in LAYERS:
        status = layers.get(name, "not reported")
        colour = "green" if status.startswith("ok") else "red" if name in config.worker.required else "yellow"
        table.add_row(name, "yes" if name in config.worker.required else "no", f"[{colour}]{status}[/{colour}]")
    console.print(table)
    console.print(f"worker started in {started_ms:.0f} ms")
    missing = [n for n in config.worker.required if not layers.get(n, "").startswith("ok")]
    if missing:
        console.print(f"[red]Python evaluators are refused: required layer unavailable: {', '.join(missing)}[/red]")
        raise typer.Exit(1)
    pool = SandboxPool(config)
    try:
        started = time.perf_counter()
        result = pool.submit(
            "doctor", "def evaluate(input, output, **kw):\n    return output == input\n", {"input": "a", "output": "a"}
        ).result(timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
    finally:
        pool.close()
    if not result.ok or result.passed is not True:
        console.print(f"[red]A trial evaluator failed:[/red] {result.error}")
        raise typer.Exit(1)
    console.print(f"[green]Python evaluators can run[/green] (a trial call took {elapsed:.0f} ms, start included)")
