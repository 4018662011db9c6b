"""Differential test: every corpus program, compiled by Assay, behaves the same on @posthog/hogvm and Assay's VM.

Compared per program: printed lines, the printed form of the return value, and whether it failed
(for an uncaught Hog `throw`, also the error type and message). Programs whose first lines say
`// expect-error: text` must fail, at compile time or on the reference VM, with a message containing the text.
Programs marked `// posthog-semantics: why` pin behaviour of PostHog's own test programs that the
published reference VM lacks (null handling): the Python VM must print exactly their `<name>.stdout`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assay.hog.compiler import compile_program
from assay.hog.errors import HogError, HogSyntaxError
from assay.hog.stdlib.print import print_hog_value
from assay.hog.vm import HogUncaughtError, execute_bytecode

from .conftest import load_corpus

CORPUS_DIR = Path(__file__).parent / "corpus"


def test_corpus_program_has_observable_output(corpus_program: Any) -> None:
    source = corpus_program.source
    assert corpus_program.expect_error or "print(" in source or "return" in source, corpus_program.name


def test_corpus_has_at_least_170_programs() -> None:
    assert len(list(CORPUS_DIR.glob("*.hog"))) >= 170


def test_expected_output_files_belong_to_marked_programs() -> None:
    marked = {p.name for p in load_corpus() if p.posthog_semantics}
    with_stdout = {p.name for p in load_corpus() if p.expected_stdout is not None}
    assert marked == with_stdout
    assert {path.stem for path in CORPUS_DIR.glob("*.stdout")} == with_stdout


def test_python_vm_prints_posthog_semantics(posthog_program: Any) -> None:
    result = execute_bytecode(compile_program(posthog_program.source), posthog_program.globals)
    assert result.stdout == posthog_program.expected_stdout


def _compile_or_expected_error(program: Any) -> list[Any] | None:
    """The bytecode, or None when compiling failed as the program expects."""
    try:
        return compile_program(program.source)
    except HogSyntaxError as error:
        if program.expect_error and program.expect_error in str(error):
            assert error.line is not None and error.column is not None
            return None
        raise


@pytest.mark.node
def test_reference_vm_runs_program(corpus_program: Any, corpus_reference: dict[str, dict[str, Any]]) -> None:
    if _compile_or_expected_error(corpus_program) is None or corpus_program.posthog_semantics:
        return
    outcome = corpus_reference[corpus_program.name]
    if corpus_program.expect_error:
        assert outcome["error"] is not None, outcome
        assert corpus_program.expect_error in outcome["error"], outcome
    else:
        assert outcome["error"] is None, outcome


@pytest.mark.node
def test_python_vm_matches_reference(corpus_program: Any, corpus_reference: dict[str, dict[str, Any]]) -> None:
    bytecode = _compile_or_expected_error(corpus_program)
    if bytecode is None or corpus_program.posthog_semantics:
        return  # the latter are checked by test_python_vm_prints_posthog_semantics
    expected = corpus_reference[corpus_program.name]
    try:
        result = execute_bytecode(bytecode, corpus_program.globals)
    except HogError as error:
        assert expected["error"] is not None, f"Python VM failed with {error!r}; reference gave {expected}"
        if expected.get("uncaught"):
            assert isinstance(error, HogUncaughtError), f"{error!r} vs {expected}"
            assert (error.type, str(error.message)) == (expected["error_type"], expected["error"])
        return
    assert expected["error"] is None, f"reference failed with {expected['error']!r}; Python VM returned {result!r}"
    assert result.stdout == expected["stdout"]
    assert print_hog_value(result.result) == expected["result_repr"]
