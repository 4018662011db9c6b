"""Whether an event triggers an online evaluation: OR'd conditions, then deterministic sampling (§2.3, §5.3).

Pure functions. An evaluator with no conditions never fires. A condition without bytecode (its filters did
not compile) is skipped. A condition fires when its bytecode returns `true` for the event and the
`distinct_id` falls inside its rollout: `int(md5(distinct_id)[:8], 16) % 10000 / 100 < rollout`
(a rollout of 100 or more always passes; a missing or unreadable rollout counts as 100).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from assay.hog.opcodes import Operation
from assay.ingest.matching import matches


def rollout_of(condition: Mapping[str, Any]) -> float:
    """The condition's `rollout_percentage` as a float (100 when missing or not a number)."""
    value = condition.get("rollout_percentage")
    if value is None or isinstance(value, bool):
        return 100.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 100.0


def in_rollout(key: str, rollout: float) -> bool:
    """PostHog's `checkRolloutPercentage`: deterministic per key."""
    if rollout >= 100:
        return True
    value = int(hashlib.md5(key.encode("utf-8")).hexdigest()[:8], 16)  # noqa: S324 - sampling, not security
    return (value % 10000) / 100 < rollout


def is_always_true(bytecode: Sequence[Any]) -> bool:
    """Whether a filter program is the one compiled from no property filters (`return true`)."""
    return len(bytecode) == 4 and bytecode[0] == "_H" and bytecode[2:] == [Operation.TRUE, Operation.RETURN]


def sampled_filters(conditions: Sequence[Any], distinct_id: str) -> list[list[Any]] | None:
    """What is left to decide once sampling is known, without reading the event's properties.

    None: no condition can fire (none samples `distinct_id` in). `[]`: a condition without property
    filters samples it in, so the evaluator fires. Otherwise the filter programs of the sampled-in
    conditions, OR'd: the evaluator fires when one of them matches the event.
    """
    programs: list[list[Any]] = []
    for condition in conditions or ():
        if not isinstance(condition, Mapping):
            continue
        bytecode = condition.get("bytecode")
        if not bytecode or not isinstance(bytecode, list):
            continue
        if not in_rollout(distinct_id, rollout_of(condition)):
            continue  # cheaper than the VM; the outcome is the same as matching first
        if is_always_true(bytecode):
            return []
        programs.append(bytecode)
    return programs or None


def should_trigger(conditions: Sequence[Any], event: str, distinct_id: str, properties: Mapping[str, Any]) -> bool:
    """Whether any condition both matches the event and samples its `distinct_id` in."""
    programs = sampled_filters(conditions, distinct_id)
    if programs is None:
        return False
    return not programs or any(matches(p, event, distinct_id, properties) for p in programs)


PATTERN_OPERATORS = frozenset({"regex", "not_regex"})
"""Property-filter operators that run a user's regular expression (bounded by RE2, but not free)."""


def uses_patterns(conditions: Sequence[Any]) -> bool:
    """Whether any condition's property filters run a regular expression on the event."""
    for condition in conditions or ():
        if not isinstance(condition, Mapping):
            continue
        for prop in condition.get("properties") or ():
            if isinstance(prop, Mapping) and prop.get("operator") in PATTERN_OPERATORS:
                return True
    return False
