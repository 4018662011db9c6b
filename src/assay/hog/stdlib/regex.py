"""Hog's regular expressions (``=~``, ``match``, ``extractRegex``) and SQL ``LIKE``, on RE2.

As in the reference VM, a pattern is searched for (not anchored), may carry ``(?i)`` style flags,
and cannot use backreferences or lookaround: RE2 refuses them, and the program fails with
``Invalid regex pattern: <RE2's reason>``. Patterns are compiled by ``assay.domain.user_regex``,
which also keeps each match within the time the program has left.
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from typing import Any

from assay.domain.user_regex import RegexBudgetError, UserRegex, UserRegexError, budget_for, compile_user_regex
from assay.hog.errors import HogRuntimeError
from assay.hog.stdlib.registry import ExecContext, stl
from assay.hog.stdlib.values import js_string

DEFAULT_SECONDS = 5.0
"""Time a match may take when it runs outside a program (no deadline)."""

_LIKE_SPECIAL = re.compile(r"[-/\\^$*+?.()|\[\]{}]")


def _budget(ctx: ExecContext | None) -> int:
    if ctx is None or ctx.deadline is None:
        return budget_for(DEFAULT_SECONDS)
    return budget_for(ctx.deadline - time.monotonic())


def compile_regex(pattern: str, ignore_case: bool = False) -> UserRegex:
    """Compile a Hog pattern; an invalid one raises ``HogRuntimeError``."""
    try:
        return compile_user_regex(pattern, ignore_case=ignore_case)
    except UserRegexError as e:
        raise HogRuntimeError(str(e)) from None


def _search(regex: UserRegex, text: str, ctx: ExecContext | None) -> bool:
    try:
        return regex.search(text, budget=_budget(ctx)) is not None
    except RegexBudgetError as e:
        raise HogRuntimeError(str(e)) from None


def regex_match(pattern: Any, value: Any, ignore_case: bool = False, ctx: ExecContext | None = None) -> bool:
    """``value =~ pattern``: false when either side is empty or null, else an unanchored search."""
    if not pattern or not value:
        return False
    if type(pattern) is not str:
        pattern = js_string(pattern)
    if type(value) is not str:
        value = js_string(value)
    return _search(compile_regex(pattern, ignore_case), value, ctx)


@lru_cache(maxsize=512)
def _like_source(pattern: str) -> str:
    # The search is unanchored, so `%` at either end adds nothing.
    core = pattern.strip("%")
    return _LIKE_SPECIAL.sub(lambda m: "\\" + m.group(0), core).replace("%", ".*").replace("_", ".")


def like(value: Any, pattern: Any, ignore_case: bool = False, ctx: ExecContext | None = None) -> bool:
    """SQL ``LIKE`` as the reference VM evaluates it: ``%`` any run, ``_`` one character, unanchored search."""
    text = value if type(value) is str else js_string(value)
    pat = pattern if type(pattern) is str else js_string(pattern)
    return _search(compile_regex(_like_source(pat), ignore_case), text, ctx)


@stl("match", 2, 2)
def _match(args: list[Any], ctx: ExecContext) -> bool:
    return regex_match(args[1], args[0], ctx=ctx)


@stl("extractRegex", 2, 2)
def _extract_regex(args: list[Any], ctx: ExecContext) -> str:
    if args[0] is None or args[1] is None:
        return ""
    regex = compile_regex(js_string(args[1]))
    try:
        found = regex.extract(js_string(args[0]), budget=_budget(ctx))
    except RegexBudgetError as e:
        raise HogRuntimeError(str(e)) from None
    return found if found is not None else ""


@stl("like", 2, 2)
def _like(args: list[Any], ctx: ExecContext) -> bool:
    return like(args[0], args[1], False, ctx)


@stl("ilike", 2, 2)
def _ilike(args: list[Any], ctx: ExecContext) -> bool:
    return like(args[0], args[1], True, ctx)


@stl("notLike", 2, 2)
def _not_like(args: list[Any], ctx: ExecContext) -> bool:
    return not like(args[0], args[1], False, ctx)


@stl("notILike", 2, 2)
def _not_ilike(args: list[Any], ctx: ExecContext) -> bool:
    return not like(args[0], args[1], True, ctx)
