"""Trusted local Python code: the `python` instance kind and the `python` evaluator kind.

Both name a callable as `package.module:function` (attributes may be dotted) or, from the Python API
(`assay.evals`), get the callable itself, which `register_callable` gives a name that `load_callable` finds
in this process. Running such code is refused unless the process opted in with `enable_trusted_code()`:
`assay run` and `assay.evals` do, `assay serve` and `assay worker` never do, so a stored run naming local
code never executes it inside the server.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import re
import threading
from collections.abc import Callable
from typing import Any

_state = {"enabled": False}
_registered: dict[str, Callable[..., Any]] = {}
_lock = threading.Lock()
_numbers = itertools.count(1)
_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]+")


class CallableNotFound(ValueError):
    """`module:function` names nothing callable in this process."""


def enable_trusted_code(enabled: bool = True) -> None:
    """Allow this process to run `python` instances and `python` evaluators (trusted local code)."""
    _state["enabled"] = enabled


def trusted_code_enabled() -> bool:
    """Whether this process opted in to running local Python code."""
    return _state["enabled"]


def check_target(value: str) -> str:
    """`value` stripped, or ValueError when it does not look like `package.module:function`."""
    module, sep, name = value.strip().partition(":")
    if not sep or not module or not name or not all(p.isidentifier() for p in [*module.split("."), *name.split(".")]):
        raise ValueError("must look like 'package.module:function'")
    return value.strip()


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def register_callable(fn: Callable[..., Any]) -> str:
    """A `module:function` name for `fn` that `load_callable` resolves in this process.

    A function importable under its own module and qualified name keeps that name; any other callable (a
    lambda, a closure, a bound method) is kept in this process under a name made from it and a number.
    """
    if not callable(fn):
        raise TypeError(f"expected a callable, got {type(fn).__name__}")
    module = getattr(fn, "__module__", None) or "local"
    qualname = getattr(fn, "__qualname__", None) or type(fn).__name__
    own = f"{module}:{qualname}"
    try:
        if check_target(own) and _import(own) is fn:
            return own
    except Exception:  # noqa: BLE001, S110 - not importable as such: registered below
        pass
    safe_module = ".".join(_identifier(p, "local") for p in module.split("."))
    with _lock:
        name = f"{safe_module}:{_identifier(qualname, 'callable')}__{next(_numbers)}"
        _registered[name] = fn
    return name


def _identifier(text: str, fallback: str) -> str:
    safe = _NOT_IDENTIFIER.sub("_", text.replace("<", "").replace(">", "")) or fallback
    return f"_{safe}" if safe[0].isdigit() else safe


def load_callable(target: str) -> Callable[..., Any]:
    """The callable `target` names (registered in this process, else imported); `CallableNotFound` otherwise."""
    registered = _registered.get(target)
    if registered is not None:
        return registered
    try:
        obj = _import(target)
    except Exception as exc:  # noqa: BLE001 - any import failure means "not found"
        raise CallableNotFound(f"cannot load {target}: {type(exc).__name__}: {exc}") from None
    if not callable(obj):
        raise CallableNotFound(f"{target} is not callable")
    return obj  # type: ignore[no-any-return]


def takes_positional(fn: Callable[..., Any], count: int) -> bool:
    """Whether `fn` accepts `count` positional arguments (False when its signature cannot be read)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    return len([p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]) >= count


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """Whether calling `fn` gives a coroutine (an `async def`, or an object whose `__call__` is one)."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__)
