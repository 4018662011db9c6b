"""A tiny JSON path subset for response mappings: `$`, `.name`, `[0]`, `['name']` / `["name"]`."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

Step = str | int
_MISSING: Any = object()
_TOKEN = re.compile(r"""\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(-?\d+)\]|\['([^']*)'\]|\["([^"]*)"\]""")


class JsonPathError(ValueError):
    """A malformed JSON path."""


@lru_cache(maxsize=512)
def parse_path(path: str) -> tuple[Step, ...]:
    """Parse `path` into steps (str keys, int indexes); raise `JsonPathError` when malformed."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise JsonPathError(f"JSON path {path!r} must start with '$' (e.g. '$.output.text').")
    steps: list[Step] = []
    pos = 1
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if match is None:
            raise JsonPathError(
                f"JSON path {path!r} is malformed at position {pos}: expected '.name', '[index]' or \"['name']\"."
            )
        name, index, single, double = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(name if name is not None else single if single is not None else double)
        pos = match.end()
    return tuple(steps)


def resolve(document: Any, steps: tuple[Step, ...]) -> Any:
    """The value at `steps` in `document`, or `MISSING` when a key or index is absent."""
    value = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return _MISSING
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return _MISSING
            value = value[step]
    return value


MISSING = _MISSING
