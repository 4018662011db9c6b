"""`assay import promptfoo`: turn another tool's eval config into Assay suite files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import_app = typer.Typer(help="Import eval configs of other tools as suite files.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)  # paths stay on one line, whatever the width
err_console = Console(stderr=True, highlight=False)


@import_app.command("promptfoo")
def promptfoo(
    config: Annotated[Path, typer.Argument(help="The promptfoo config (promptfooconfig.yaml).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The suite file to write (several: numbered after it).")
    ] = Path("suite.yaml"),
) -> None:
    """Write a suite file from a promptfoo config and list everything that could not be mapped, and why."""
    from assay.local.promptfoo_import import PromptfooImportError, format_report, import_promptfoo, write_suites
    from assay.local.suitefile import SuiteFileError, load_suite

    try:
        result = import_promptfoo(config)
    except PromptfooImportError as exc:
        err_console.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    paths = write_suites(result, output, source=config)
    for path, (label, suite) in zip(paths, result.suites, strict=True):
        try:
            load_suite(path)
        except SuiteFileError as exc:  # a mapping bug: say so rather than leave a file `assay run` refuses
            err_console.print(f"{path} does not load:\n{exc}", markup=False)
            raise typer.Exit(1) from None
        console.print(f"Wrote {path}: {label}, {len(suite['cases'])} cases, {len(suite['evaluators'])} evaluators")
    console.print(format_report(result), markup=False)
