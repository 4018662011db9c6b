"""The Hog language: parser, compiler to HogVM bytecode, and a sandboxed VM.

Imports nothing of Assay but ``assay.domain``; running a Hog evaluation against an event is
``assay.evaluators.hog_eval``.

``compile_program`` and ``compile_property_filters`` are loaded on first use so that the VM can
be imported on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assay.hog.errors import (
    HogError,
    HogMemoryLimitError,
    HogRuntimeError,
    HogSyntaxError,
    HogTimeoutError,
)
from assay.hog.opcodes import Operation
from assay.hog.stdlib.print import print_hog_string_output, print_hog_value
from assay.hog.vm import HogResult, HogUncaughtError, execute_bytecode

if TYPE_CHECKING:
    from assay.hog.compiler import compile_program
    from assay.hog.filters import compile_property_filters

_LAZY = {
    "compile_program": "assay.hog.compiler",
    "compile_property_filters": "assay.hog.filters",
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
    "compile_program",
    "compile_property_filters",
    "execute_bytecode",
    "print_hog_string_output",
    "print_hog_value",
]
