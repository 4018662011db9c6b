"""User-supplied regular expressions: compiled once with RE2, matched in linear time within a cost budget.

Every pattern a user controls (Hog's `=~`, `match`, `extractRegex`, `LIKE`; property filters with a
`regex` operator; the `regex` check) goes through `compile_user_regex`. RE2 never backtracks, so
patterns such as `(a|aa)+$` cannot hang the process, and it releases the GIL while matching, so other
requests keep being served. What RE2 cannot compile (backreferences, lookaround, `\\Z`, repetition
counts above 1000) raises `UserRegexError` with RE2's reason, as PostHog's Hog VM does.

Linear is not free: a match costs at worst about `bytes of text × (program size + a constant)` steps,
when every byte builds a fresh DFA state. Each match is given a budget in those steps (see
`COST_UNITS_PER_SECOND`), and one that could exceed it raises `RegexBudgetError` before it starts,
so no single match can outlive the time limit of the work it belongs to.
"""

from __future__ import annotations

from functools import lru_cache

import re2

COST_UNITS_PER_SECOND = 40_000_000
"""Worst-case cost units RE2 gets through per second (about 25 ns each: the slowest DFA-hostile
patterns measured on a loaded two-core machine ran at 10-30 ns per unit)."""

MIN_BUDGET = 200_000
"""Matches costing at most this many units always run, however little time is left (a few ms at worst)."""

MAX_MEMORY_BYTES = 2 * 1024 * 1024
"""RE2 memory per compiled pattern (program and DFA cache); bigger patterns fail to compile."""

CACHE_SIZE = 128
"""Compiled patterns kept (each holds at most `MAX_MEMORY_BYTES` per RE2 program)."""

_STATE_OVERHEAD = 40
"""Per-byte cost of building a DFA state, in program-instruction units, on top of the program size."""


class UserRegexError(ValueError):
    """A pattern RE2 cannot compile: `Invalid regex pattern: <reason>`, with RE2's words in `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid regex pattern: {reason}")
        self.reason = reason


class RegexBudgetError(ValueError):
    """A match whose worst-case cost exceeds the budget it was given."""


def _options(*, ignore_case: bool, dot_all: bool, capture: bool) -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_MEMORY_BYTES
    options.case_sensitive = not ignore_case
    options.dot_nl = dot_all
    options.never_capture = not capture
    return options


def _reason(error: Exception) -> str:
    arg = error.args[0] if error.args else error
    return arg.decode("utf-8", errors="replace") if isinstance(arg, bytes) else str(arg)


def _subject(text: str) -> str:
    """`text`, with lone surrogates (which UTF-8 cannot encode) replaced so offsets stay the same."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _byte_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


class UserRegex:
    """A compiled user pattern. Matching methods take `budget`, in cost units (None: unlimited)."""

    __slots__ = ("pattern", "_find", "_capture", "_options", "_steps")

    def __init__(self, pattern: str, *, ignore_case: bool = False, multiline: bool = False, dot_all: bool = False):
        self.pattern = pattern
        source = f"(?m){pattern}" if multiline else pattern
        self._options = (source, ignore_case, dot_all)
        try:
            # Never capturing lets RE2 answer with its DFAs alone; groups are found only when asked for.
            self._find = re2.compile(source, _options(ignore_case=ignore_case, dot_all=dot_all, capture=False))
        except re2.error as e:
            raise UserRegexError(_reason(e)) from None
        self._capture: re2._Regexp | None = None
        self._steps: int = max(self._find.programsize, self._find.reverseprogramsize)

    def cost(self, text: str) -> int:
        """Worst-case cost units of one match against `text`."""
        return _byte_length(text) * (self._steps + _STATE_OVERHEAD)

    def _check(self, text: str, budget: int | None, steps: int | None = None) -> str:
        if budget is not None:
            cost = _byte_length(text) * ((steps or self._steps) + _STATE_OVERHEAD)
            if cost > max(budget, MIN_BUDGET):
                raise RegexBudgetError(
                    f"Regex too expensive: a pattern of {steps or self._steps} steps on {_byte_length(text)} bytes "
                    f"of text could take {cost / COST_UNITS_PER_SECOND:.1f} s, more than the time left"
                )
        return _subject(text)

    def search(self, text: str, *, budget: int | None = None) -> tuple[int, int] | None:
        """The span of the first match anywhere in `text`, or None."""
        m = self._find.search(self._check(text, budget))
        return m.span() if m is not None else None

    def fullmatch(self, text: str, *, budget: int | None = None) -> tuple[int, int] | None:
        """The span of `text` when the whole of it matches, or None."""
        m = self._find.fullmatch(self._check(text, budget))
        return m.span() if m is not None else None

    def extract(self, text: str, *, budget: int | None = None) -> str | None:
        """The first group of the first match ('' when it took no part), the whole match when there is
        no group, or None when nothing matches."""
        subject = self._check(text, budget)
        m = self._find.search(subject)
        if m is None:
            return None
        if self._capture is None:
            source, ignore_case, dot_all = self._options
            self._capture = re2.compile(source, _options(ignore_case=ignore_case, dot_all=dot_all, capture=True))
        if not self._capture.groups:
            whole: str = m.group(0)
            return whole
        start, end = m.span()
        # The groups are found on the matched span only (the rest of the text is context), by RE2's
        # NFA, which costs more per byte than the DFA that found the span.
        self._check(subject[start:end], budget, max(self._capture.programsize, self._steps))
        sub = self._capture.fullmatch(subject, start, end)
        return (sub.group(1) or "") if sub is not None else None


@lru_cache(maxsize=CACHE_SIZE)
def compile_user_regex(
    pattern: str, *, ignore_case: bool = False, multiline: bool = False, dot_all: bool = False
) -> UserRegex:
    """Compile (or fetch from the cache) a user pattern; raises `UserRegexError` when RE2 cannot compile it."""
    return UserRegex(pattern, ignore_case=ignore_case, multiline=multiline, dot_all=dot_all)


def budget_for(seconds: float) -> int:
    """The cost budget of a match allowed to run for `seconds`."""
    return int(max(0.0, seconds) * COST_UNITS_PER_SECOND)
