"""Rejecting JSON values the databases cannot store: NUL characters and non-finite numbers."""

from __future__ import annotations

import math
from typing import Any

from pydantic_core import PydanticCustomError

STORABLE_MAX_DEPTH = 64


def check_storable(value: Any) -> Any:
    """Raise a validation error for NUL characters, NaN/Infinity or nesting deeper than 64 levels."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise PydanticCustomError("null_characters_not_allowed", "Null characters are not allowed.")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise PydanticCustomError("invalid", "NaN and Infinity are not valid JSON numbers.")
        elif isinstance(item, dict | list):
            if depth >= STORABLE_MAX_DEPTH:
                raise PydanticCustomError("invalid", f"JSON is nested deeper than {STORABLE_MAX_DEPTH} levels.")
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str) and "\x00" in key:
                    raise PydanticCustomError("null_characters_not_allowed", "Null characters are not allowed.")
                stack.append((child, depth + 1))
    return value
