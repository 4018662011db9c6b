"""Errors raised while compiling or running Hog.

HogError
├── HogSyntaxError        the source does not parse or compile (has line and column)
└── HogRuntimeError       the program failed while running (`throw`, bad types, a forbidden function)
    ├── HogTimeoutError   the wall-time limit was exceeded
    └── HogMemoryLimitError  the memory, stack, string or array limits were exceeded
"""

from __future__ import annotations


class HogError(Exception):
    """Base class for every Hog error."""


class HogSyntaxError(HogError):
    """The source could not be parsed or compiled."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(f"{message}{where}")


class HogRuntimeError(HogError):
    """The program raised an error while running."""


class HogTimeoutError(HogRuntimeError):
    """The program ran past its wall-time limit."""


class HogMemoryLimitError(HogRuntimeError):
    """The program exceeded its memory, stack depth, string or array size limits."""
