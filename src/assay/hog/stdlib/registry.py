"""The standard-library registry and the per-execution context native functions receive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from assay.hog.errors import HogMemoryLimitError

#: Size charged per value, container or string header when estimating memory.
COST_PER_UNIT = 8


class ExecContext:
    """What a native function may use while running: output, limits and caches. Nothing else."""

    __slots__ = (
        "stdout",
        "stdout_chars",
        "max_string_length",
        "max_array_length",
        "max_stdout_chars",
        "allocated",
        "deadline",
    )

    def __init__(self, max_string_length: int, max_array_length: int, max_stdout_chars: int) -> None:
        self.stdout: list[str] = []
        self.stdout_chars = 0
        self.max_string_length = max_string_length
        self.max_array_length = max_array_length
        self.max_stdout_chars = max_stdout_chars
        self.allocated = 0
        #: ``time.monotonic()`` value after which long-running native work must stop.
        self.deadline: float | None = None

    def write(self, line: str) -> None:
        """Append one printed line, enforcing the output cap."""
        self.stdout_chars += len(line) + 1
        if self.stdout_chars > self.max_stdout_chars:
            raise HogMemoryLimitError("Memory limit exceeded")
        self.stdout.append(line)

    def reserve_string(self, length: int) -> None:
        """Fail before building a string longer than the string limit."""
        if length > self.max_string_length:
            raise HogMemoryLimitError("Memory limit exceeded")
        self.allocated += length + COST_PER_UNIT

    def reserve_array(self, length: int) -> None:
        """Fail before building an array or dictionary with more elements than allowed."""
        if length > self.max_array_length:
            raise HogMemoryLimitError("Memory limit exceeded")
        self.allocated += COST_PER_UNIT * (length + 1)


NativeFn = Callable[[list[Any], ExecContext], Any]


class StlFunction(NamedTuple):
    """A native standard-library function and its accepted argument counts."""

    fn: NativeFn
    min_args: int
    max_args: int | None


STL: dict[str, StlFunction] = {}


def stl(name: str, min_args: int, max_args: int | None) -> Callable[[NativeFn], NativeFn]:
    """Register a native function under its Hog name."""

    def register(fn: NativeFn) -> NativeFn:
        STL[name] = StlFunction(fn, min_args, max_args)
        return fn

    return register


def arg(args: list[Any], index: int, default: Any = None) -> Any:
    """The argument at ``index`` or ``default`` when it was not passed."""
    return args[index] if index < len(args) else default
