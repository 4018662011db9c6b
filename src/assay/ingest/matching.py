"""Matching events against compiled property-filter bytecode (evaluation conditions, list filters).

Filters run on the HogVM with the globals PostHog's evaluation matcher uses:
`{event, elements_chain, distinct_id, person: {properties}, properties}` (person properties are
empty, as in the docs-era matcher). An event matches only when the program returns `true`;
any error counts as no match.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from assay.hog import HogError, execute_bytecode

FILTER_TIMEOUT = 1.0
"""Seconds one filter may run on one event (filters are tiny; this only bounds pathological input)."""


def filter_globals(event: str, distinct_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """The VM globals a property filter sees for one event."""
    return {
        "event": event,
        "elements_chain": "",
        "distinct_id": distinct_id,
        "person": {"properties": {}},
        "properties": dict(properties),
    }


def matches(
    bytecode: list[Any],
    event: str,
    distinct_id: str,
    properties: Mapping[str, Any],
    *,
    timeout: float = FILTER_TIMEOUT,
) -> bool:
    """Whether the filter program returns exactly `true` for the event (within `timeout` seconds)."""
    try:
        result = execute_bytecode(bytecode, filter_globals(event, distinct_id, properties), timeout=timeout)
    except (HogError, RecursionError, MemoryError):
        return False
    return result.result is True


def matches_any(
    programs: Sequence[list[Any]],
    event: str,
    distinct_id: str,
    properties: Mapping[str, Any],
    *,
    timeout: float = FILTER_TIMEOUT,
) -> bool:
    """OR of several filter programs; no programs means everything matches."""
    if not programs:
        return True
    return any(matches(p, event, distinct_id, properties, timeout=timeout) for p in programs)


def first_matching(
    programs: Sequence[list[Any]],
    candidates: Iterable[tuple[str, str, Mapping[str, Any]]],
    want: int,
    *,
    deadline: float | None = None,
) -> list[int]:
    """Indexes of the first `want` candidates `(event, distinct_id, properties)` matching any program.

    With a `deadline` (a `time.monotonic()` value) the scan stops there, and no filter runs past it.
    """
    found: list[int] = []
    if want <= 0:
        return found
    for i, (event, distinct_id, properties) in enumerate(candidates):
        timeout = FILTER_TIMEOUT
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
            if timeout <= 0:
                break
        if matches_any(programs, event, distinct_id, properties, timeout=timeout):
            found.append(i)
            if len(found) >= want:
                break
    return found
