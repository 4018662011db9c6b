"""Regular expressions with RE2-like semantics on top of Python's ``re``, plus SQL ``LIKE``.

The reference VM matches with RE2: a search (not anchored), ``(?i)`` style flags, no
backreferences or lookaround, and linear running time. Python's ``re`` backtracks, so patterns
that could take exponential time (nested unbounded repetition) and RE2-incompatible constructs
are refused with a ``HogRuntimeError`` instead of being allowed to hang the worker.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from assay.evaluators.hog.errors import HogRuntimeError
from assay.evaluators.hog.stdlib.registry import ExecContext, stl
from assay.evaluators.hog.stdlib.values import js_string

try:  # Python 3.11+
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef]

_MAXREPEAT = _sre_parse.MAXREPEAT
_REPEATS = {_sre_parse.MAX_REPEAT, _sre_parse.MIN_REPEAT}
_POSSESSIVE = getattr(_sre_parse, "POSSESSIVE_REPEAT", None)
if _POSSESSIVE is not None:
    _REPEATS.add(_POSSESSIVE)
_FORBIDDEN = {_sre_parse.GROUPREF, _sre_parse.ASSERT, _sre_parse.ASSERT_NOT}
_GROUPREF_EXISTS = getattr(_sre_parse, "GROUPREF_EXISTS", None)
if _GROUPREF_EXISTS is not None:
    _FORBIDDEN.add(_GROUPREF_EXISTS)

_ATOMIC = getattr(_sre_parse, "ATOMIC_GROUP", None)
_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")
_LIKE_SPECIAL = re.compile(r"[-/\\^$*+?.()|\[\]{}]")


def _translate(pattern: str) -> str:
    """Rewrite RE2 syntax Python spells differently."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "z":
                out.append("\\Z")
            elif nxt in "pP":
                raise HogRuntimeError(f"Unsupported regex: Unicode classes (\\{nxt}) are not available: {pattern}")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append(c)
        i += 1
    return _NAMED_GROUP.sub("(?P<", "".join(out))


_CATEGORY_TESTS = {
    "CATEGORY_DIGIT": lambda c: c.isdigit(),
    "CATEGORY_NOT_DIGIT": lambda c: not c.isdigit(),
    "CATEGORY_SPACE": lambda c: c.isspace(),
    "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}


def _item_matches(op: Any, av: Any, ch: str) -> bool:
    """Whether one single-character pattern item could match ``ch`` (True when unsure)."""
    name = str(op)
    if name == "LITERAL":
        return chr(av) == ch
    if name == "NOT_LITERAL":
        return chr(av) != ch
    if name == "IN":
        negate = False
        hit = False
        for sub_op, sub_av in av:
            sub = str(sub_op)
            if sub == "NEGATE":
                negate = True
            elif sub == "LITERAL":
                hit = hit or chr(sub_av) == ch
            elif sub == "RANGE":
                hit = hit or sub_av[0] <= ord(ch) <= sub_av[1]
            elif sub == "CATEGORY":
                test = _CATEGORY_TESTS.get(str(sub_av))
                hit = hit or (test(ch) if test else True)
            else:
                hit = True
        return hit != negate
    return True


def _repeated_items(items: Any) -> list[tuple[Any, Any]]:
    """Single-character items that sit inside variable-length repetition in ``items``."""
    found: list[tuple[Any, Any]] = []
    for op, av in items:
        if op in _REPEATS:
            low, high, sub = av
            if high != low:
                found.extend(_leaf_items(sub))
            else:
                found.extend(_repeated_items(sub))
        elif op == _sre_parse.SUBPATTERN:
            found.extend(_repeated_items(av[-1]))
        elif op == _sre_parse.BRANCH:
            for branch in av[1]:
                found.extend(_repeated_items(branch))
    return found


def _leaf_items(items: Any) -> list[tuple[Any, Any]]:
    found: list[tuple[Any, Any]] = []
    for op, av in items:
        if op in _REPEATS:
            found.extend(_leaf_items(av[2]))
        elif op == _sre_parse.SUBPATTERN:
            found.extend(_leaf_items(av[-1]))
        elif op == _sre_parse.BRANCH:
            for branch in av[1]:
                found.extend(_leaf_items(branch))
        else:
            found.append((op, av))
    return found


def _mandatory(items: Any) -> list[tuple[Any, Any]]:
    """Items every match must go through (groups flattened, repetition and branches skipped)."""
    found: list[tuple[Any, Any]] = []
    for op, av in items:
        if op == _sre_parse.SUBPATTERN:
            found.extend(_mandatory(av[-1]))
        elif op not in _REPEATS and op != _sre_parse.BRANCH:
            found.append((op, av))
    return found


def _separated(items: Any) -> bool:
    """True when a mandatory literal in ``items`` cannot be consumed by its inner repetition."""
    inner = _repeated_items(items)
    for op, av in _mandatory(items):
        if op == _sre_parse.LITERAL:
            ch = chr(av)
            if not any(_item_matches(i_op, i_av, ch) for i_op, i_av in inner):
                return True
    return False


def _check_safe(items: Any, pattern: str) -> None:
    for op, av in items:
        if op in _FORBIDDEN:
            raise HogRuntimeError(f"Invalid regex: backreferences and lookaround are not supported: {pattern}")
        if op in _REPEATS:
            low, high, sub = av
            if (high == _MAXREPEAT or high > 100) and _can_repeat(sub) and not _separated(sub):
                raise HogRuntimeError(f"Regex is too complex (nested repetition): {pattern}")
            _check_safe(sub, pattern)
        elif op == _sre_parse.SUBPATTERN:
            _check_safe(av[-1], pattern)
        elif op == _sre_parse.BRANCH:
            for branch in av[1]:
                _check_safe(branch, pattern)
        elif _ATOMIC is not None and op == _ATOMIC:
            _check_safe(av, pattern)


def _can_repeat(items: Any) -> bool:
    """True when the sub-pattern itself contains variable-length repetition."""
    for op, av in items:
        if op in _REPEATS:
            low, high, _ = av
            if high != low:
                return True
        elif op == _sre_parse.SUBPATTERN:
            if _can_repeat(av[-1]):
                return True
        elif op == _sre_parse.BRANCH:
            if any(_can_repeat(b) for b in av[1]):
                return True
    return False


@lru_cache(maxsize=512)
def compile_regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """Compile an RE2-style pattern, refusing constructs that are unsupported or unsafe."""
    translated = _translate(pattern)
    try:
        parsed = _sre_parse.parse(translated, 0)
        _check_safe(parsed.data if hasattr(parsed, "data") else list(parsed), pattern)
        return re.compile(translated, re.IGNORECASE if ignore_case else 0)
    except re.error as e:
        raise HogRuntimeError(f"Invalid regex: {pattern} ({e})") from e
    except RecursionError as e:
        raise HogRuntimeError(f"Regex is too complex: {pattern}") from e


def regex_match(pattern: Any, value: Any, ignore_case: bool = False) -> bool:
    """``value =~ pattern``: false when either side is empty or null, else an unanchored search."""
    if not pattern or not value:
        return False
    if type(pattern) is not str:
        pattern = js_string(pattern)
    if type(value) is not str:
        value = js_string(value)
    return compile_regex(pattern, ignore_case).search(value) is not None


@lru_cache(maxsize=512)
def _like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # The search is unanchored, so `%` at either end adds nothing; dropping it spares the regex engine
    # from backtracking a leading `.*` at every start position (quadratic in the text's length).
    core = pattern.strip("%")
    body = _LIKE_SPECIAL.sub(lambda m: "\\" + m.group(0), core).replace("%", ".*").replace("_", ".")
    return re.compile(body, re.IGNORECASE if ignore_case else 0)


def like(value: Any, pattern: Any, ignore_case: bool = False) -> bool:
    """SQL ``LIKE`` as the reference VM evaluates it: ``%`` any run, ``_`` one character, unanchored search."""
    text = value if type(value) is str else js_string(value)
    pat = pattern if type(pattern) is str else js_string(pattern)
    return _like_regex(pat, ignore_case).search(text) is not None


@stl("match", 2, 2)
def _match(args: list[Any], ctx: ExecContext) -> bool:
    return regex_match(args[1], args[0])


@stl("extractRegex", 2, 2)
def _extract_regex(args: list[Any], ctx: ExecContext) -> str:
    if args[0] is None or args[1] is None:
        return ""
    m = compile_regex(js_string(args[1])).search(js_string(args[0]))
    if m is None:
        return ""
    if m.re.groups:
        return m.group(1) or ""
    return m.group(0)


@stl("like", 2, 2)
def _like(args: list[Any], ctx: ExecContext) -> bool:
    return like(args[0], args[1], False)


@stl("ilike", 2, 2)
def _ilike(args: list[Any], ctx: ExecContext) -> bool:
    return like(args[0], args[1], True)


@stl("notLike", 2, 2)
def _not_like(args: list[Any], ctx: ExecContext) -> bool:
    return not like(args[0], args[1], False)


@stl("notILike", 2, 2)
def _not_ilike(args: list[Any], ctx: ExecContext) -> bool:
    return not like(args[0], args[1], True)
