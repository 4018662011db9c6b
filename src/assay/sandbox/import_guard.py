"""The fixed set of standard-library modules evaluator code may import.

They are imported before the lockdown (afterwards no file can be read); then the import statement of
evaluator code only hands out those modules, a finder refuses everything else, and the modules that reach
the operating system are dropped from `sys.modules`. This is a convenience, not the boundary: code can
still reach `os` through object graphs, so the kernel layers are what contain it.
"""

from __future__ import annotations

import builtins
import importlib
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

ALLOWED_MODULES = (
    "json",
    "math",
    "cmath",
    "re",
    "statistics",
    "datetime",
    "_strptime",
    "time",
    "collections",
    "collections.abc",
    "itertools",
    "functools",
    "operator",
    "string",
    "difflib",
    "unicodedata",
    "decimal",
    "fractions",
    "random",
    "textwrap",
    "typing",
    "dataclasses",
    "enum",
    "heapq",
    "bisect",
    "copy",
    "base64",
    "hashlib",
    "html",
    "urllib.parse",
)
"""What `import` gives evaluator code: text, numbers, dates, data structures. Nothing that does I/O."""

DROPPED_MODULES = (
    "os",
    "posix",
    "subprocess",
    "socket",
    "_socket",
    "select",
    "selectors",
    "signal",
    "ctypes",
    "_ctypes",
    "importlib",
    "_imp",
    "resource",
    "fcntl",
    "mmap",
    "threading",
    "_thread",
    "_posixsubprocess",
    "io",
    "_io",
    "shutil",
    "tempfile",
    "pathlib",
    "sys",
    "builtins",
    "gc",
    "inspect",
    "marshal",
    "pickle",
)
"""Removed from `sys.modules` (with their submodules) before evaluator code runs."""

REMOVED_BUILTINS = ("open", "input", "breakpoint", "exit", "quit", "help", "eval", "exec", "compile", "__import__")


class _RefuseFinder:
    """A meta-path finder that refuses to load any module outside the allowlist."""

    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed

    def find_spec(self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> None:
        if name not in self.allowed:
            raise ImportError(f"import of {name!r} is not allowed in a sandboxed evaluator")


def preload() -> None:
    """Import every allowed module while files can still be read."""
    for name in ALLOWED_MODULES:
        importlib.import_module(name)
    import time

    time.strptime("2000", "%Y")  # loads the lazy parts of _strptime and locale


def guarded_import(modules: Mapping[str, ModuleType]) -> Any:
    """An `__import__` for evaluator code that returns only preloaded, allowed modules."""

    def _import(
        name: str,
        globals: Mapping[str, Any] | None = None,
        locals: Mapping[str, Any] | None = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> ModuleType:
        if level != 0 or name not in modules:
            raise ImportError(f"import of {name!r} is not allowed in a sandboxed evaluator")
        if fromlist:
            return modules[name]
        return modules[name.partition(".")[0]]

    return _import


def evaluator_builtins(print_function: Any) -> dict[str, Any]:
    """The builtins of evaluator code: the usual ones without file, prompt or code-loading functions."""
    table = {k: v for k, v in vars(builtins).items() if k not in REMOVED_BUILTINS}
    table["__import__"] = guarded_import(dict(_snapshot()))
    table["print"] = print_function
    return table


_SNAPSHOT: dict[str, ModuleType] = {}


def _snapshot() -> dict[str, ModuleType]:
    if not _SNAPSHOT:
        for name in ALLOWED_MODULES:
            _SNAPSHOT[name] = sys.modules[name]
            top = name.partition(".")[0]
            _SNAPSHOT[top] = sys.modules[top]
    return _SNAPSHOT


def seal() -> None:
    """Refuse further imports and drop the modules that reach the operating system."""
    _snapshot()
    sys.meta_path.insert(0, _RefuseFinder(frozenset(_SNAPSHOT)))
    for name in list(sys.modules):
        if name.partition(".")[0] in DROPPED_MODULES:
            del sys.modules[name]
