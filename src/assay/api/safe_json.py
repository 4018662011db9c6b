"""Rejecting JSON values the databases cannot store (NUL, NaN, Infinity, lone surrogates), and rendering echoes safely."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic_core import PydanticCustomError

from assay.domain.storable import storable_problem


def check_storable(value: Any) -> Any:
    """Raise a validation error for NUL characters, NaN/Infinity or nesting deeper than 64 levels."""
    problem = storable_problem(value)
    if problem is not None:
        raise PydanticCustomError(*problem)
    return value


# What a JSON body needs to hold for the strict reading below to matter: a NaN/Infinity literal, a number with an
# exponent or 300+ digits (it may overflow a double), or a surrogate (escaped, or encoded as raw UTF-8 bytes).
_SUSPECT = re.compile(rb"NaN|Infinity|[0-9][eE]|[0-9.]{300}|\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class NotStorableJson(ValueError):
    """A JSON body holds a value JSON or the databases cannot represent."""


def _refuse_constant(name: str) -> Any:
    raise NotStorableJson(f"Out of range float values are not JSON compliant: {name!r}")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise NotStorableJson(f"Out of range float values are not JSON compliant: {literal!r}")
    return value


def unstorable_json_reason(body: bytes) -> str | None:
    """Why a JSON body cannot be accepted as is (NaN, ±Infinity, a number beyond a double, a lone surrogate), or None.

    Malformed JSON is left to the framework's own parser (None here). Only bodies holding a suspect token are parsed.
    """
    if not _SUSPECT.search(body):
        return None
    try:
        value = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except NotStorableJson as exc:
        return str(exc)
    except ValueError:  # malformed JSON, or not UTF-8: the framework reports it
        return None
    return _lone_surrogate(value)


def _lone_surrogate(value: Any) -> str | None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found:
                return f"Lone surrogate {found.group().encode('unicode_escape').decode()} is not valid Unicode."
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def renderable(value: Any) -> Any:
    """A copy of `value` that strict JSON can render: non-finite floats and undecodable text become plain strings.

    Validation errors echo their input; an input the encoder cannot render must not turn a 422 into a 500.
    """
    if isinstance(value, bool | int | None):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return value if not _SURROGATE.search(value) else value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, dict):
        return {str(renderable(k)): renderable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [renderable(v) for v in value]
    return renderable(str(value))
