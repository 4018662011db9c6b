"""The Hog language: parser, compiler to HogVM bytecode, and a sandboxed VM.

``compile_program`` and ``compile_property_filters`` are loaded on first use so that the VM can
be imported on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assay.evaluators.hog.errors import (
    HogError,
    HogMemoryLimitError,
    HogRuntimeError,
    HogSyntaxError,
    HogTimeoutError,
)
from assay.evaluators.hog.opcodes import Operation
from assay.evaluators.hog.runtime import build_globals, run_hog_eval, run_hog_eval_async, run_hog_evaluation
from assay.evaluators.hog.stdlib.print import print_hog_string_output, print_hog_value
from assay.evaluators.hog.vm import HogResult, HogUncaughtError, execute_bytecode

if TYPE_CHECKING:
    from assay.evaluators.hog.compiler import compile_program
    from assay.evaluators.hog.filters import compile_property_filters

_LAZY = {
    "compile_program": "assay.evaluators.hog.compiler",
    "compile_property_filters": "assay.evaluators.hog.filters",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "HogError",
    "HogMemoryLimitError",
    "HogResult",
    "HogRuntimeError",
    "HogSyntaxError",
    "HogTimeoutError",
    "HogUncaughtError",
    "Operation",
    "build_globals",
    "compile_program",
    "compile_property_filters",
    "execute_bytecode",
    "print_hog_string_output",
    "print_hog_value",
    "run_hog_eval",
    "run_hog_eval_async",
    "run_hog_evaluation",
]
