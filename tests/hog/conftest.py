"""Fixtures for Hog tests: the reference `@posthog/hogvm` runner and the program corpus."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HOG_TESTS = Path(__file__).parent
JS_DIR = HOG_TESTS / "js"
CORPUS_DIR = HOG_TESTS / "corpus"

RunNode = Callable[[list[Any]], list[dict[str, Any]]]


def node_missing_reason() -> str | None:
    """Why the reference VM cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (JS_DIR / "node_modules" / "@posthog" / "hogvm").is_dir():
        return "tests/hog/js/node_modules is missing (run `npm ci` in tests/hog/js)"
    return None


def run_reference(programs: list[Any]) -> list[dict[str, Any]]:
    """Run bytecode programs (or {bytecode, globals} dicts) on @posthog/hogvm in one node process."""
    proc = subprocess.run(
        ["node", str(JS_DIR / "run.mjs")],
        input=json.dumps(programs),
        capture_output=True,
        text=True,
        cwd=JS_DIR,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"reference runner failed: {proc.stderr}")
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    return results


@pytest.fixture(scope="session")
def run_node() -> RunNode:
    """A function running bytecode on the reference VM; skips when node or the package is missing."""
    reason = node_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    return run_reference


@dataclass
class CorpusProgram:
    """One corpus file: its source and the directives from its leading `// key: value` comments.

    A program with `// posthog-semantics: why` has its expected printed lines in `<name>.stdout`: it pins
    behaviour of PostHog's own test programs that the published `@posthog/hogvm` does not have yet, so
    the Python VM is checked against that file instead of the reference VM.
    """

    name: str
    source: str
    expect_error: str | None = None
    globals: dict[str, Any] = field(default_factory=dict)
    posthog_semantics: str | None = None
    expected_stdout: list[str] | None = None


def load_corpus() -> list[CorpusProgram]:
    """Every `tests/hog/corpus/*.hog` program, sorted by name."""
    programs = []
    for path in sorted(CORPUS_DIR.glob("*.hog")):
        source = path.read_text(encoding="utf-8")
        program = CorpusProgram(name=path.stem, source=source)
        for line in source.splitlines():
            if not line.startswith("// "):
                break
            key, _, value = line[3:].partition(":")
            if key == "expect-error":
                program.expect_error = value.strip()
            elif key == "globals":
                program.globals = json.loads(value)
            elif key == "posthog-semantics":
                program.posthog_semantics = value.strip()
        expected = path.with_suffix(".stdout")
        if expected.exists():
            program.expected_stdout = expected.read_text(encoding="utf-8").splitlines()
        programs.append(program)
    return programs


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize any test taking `corpus_program` with every corpus file."""
    if "corpus_program" in metafunc.fixturenames:
        programs = load_corpus()
        metafunc.parametrize("corpus_program", programs, ids=[p.name for p in programs])
    if "posthog_program" in metafunc.fixturenames:
        marked = [p for p in load_corpus() if p.posthog_semantics]
        metafunc.parametrize("posthog_program", marked, ids=[p.name for p in marked])


@pytest.fixture(scope="session")
def corpus_reference(run_node: RunNode) -> dict[str, dict[str, Any]]:
    """Reference-VM outcome of every corpus program that compiles, by name (one node process)."""
    from assay.hog.compiler import compile_program
    from assay.hog.errors import HogSyntaxError

    names, items = [], []
    for program in load_corpus():
        try:
            bytecode = compile_program(program.source)
        except HogSyntaxError:
            continue
        names.append(program.name)
        items.append({"bytecode": bytecode, "globals": program.globals})
    return dict(zip(names, run_node(items), strict=True))
