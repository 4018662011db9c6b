"""What the databases cannot store in a JSON value: NUL characters, NaN or Infinity, very deep nesting."""

from __future__ import annotations

import math
from typing import Any

STORABLE_MAX_DEPTH = 64


def storable_problem(value: Any) -> tuple[str, str] | None:
    """`(code, message)` for the first value the databases cannot store, or None when all of it can be stored."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "null_characters_not_allowed", "Null characters are not allowed."
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "invalid", "NaN and Infinity are not valid JSON numbers."
        elif isinstance(item, dict | list):
            if depth >= STORABLE_MAX_DEPTH:
                return "invalid", f"JSON is nested deeper than {STORABLE_MAX_DEPTH} levels."
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str) and "\x00" in key:
                    return "null_characters_not_allowed", "Null characters are not allowed."
                stack.append((child, depth + 1))
    return None
