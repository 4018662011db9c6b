"""The Hog standard library: native functions by area, plus a few written in bytecode."""

from __future__ import annotations

from assay.hog.stdlib import (  # noqa: F401  (imported to register their functions)
    arrays,
    crypto,
    datetime,
    json,
    logic,
    math,
    misc,
    print,
    regex,
    strings,
    types,
)
from assay.hog.stdlib.bytecode import BYTECODE_FUNCTIONS
from assay.hog.stdlib.registry import STL, ExecContext, StlFunction

#: Functions that do I/O or wait in the reference VM; Assay evaluations refuse them.
UNAVAILABLE_FUNCTIONS = frozenset({"fetch", "postHogCapture", "sleep", "run", "import", "sendEmail"})

__all__ = ["BYTECODE_FUNCTIONS", "STL", "UNAVAILABLE_FUNCTIONS", "ExecContext", "StlFunction"]
