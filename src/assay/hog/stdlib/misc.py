"""Remaining reference functions: semantic-version sort keys and cohort checks."""

from __future__ import annotations

from typing import Any

from assay.hog.errors import HogRuntimeError
from assay.hog.stdlib.regex import compile_regex
from assay.hog.stdlib.registry import ExecContext, stl
from assay.hog.stdlib.values import js_parse_int, js_string


@stl("sortableSemver", 1, 1)
def _sortable_semver(args: list[Any], ctx: ExecContext) -> list[Any]:
    if args[0] is None:
        return []
    found = compile_regex(r"\d+(?:\.\d+)+").extract(js_string(args[0]))
    if not found:
        return []
    out: list[Any] = []
    for part in found.split("."):
        n = js_parse_int(part)
        out.append(0 if n != n else n)
    return out


def _cohort(name: str) -> None:
    @stl(name, 2, 2)
    def _fn(args: list[Any], ctx: ExecContext) -> bool:
        raise HogRuntimeError(f"{name}() requires cohort membership, which is not available in Assay evaluations")


_cohort("inCohort")
_cohort("notInCohort")
