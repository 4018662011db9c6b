"""API key scopes: `<object>:read` for reads, `<object>:write` for everything else.

A write scope also allows reading the same object, except for events: `event:write` is what a key
for producers needs (ingestion, project token rotation), and reading every logged prompt and answer
takes `event:read`.
"""

from __future__ import annotations

from typing import Literal

ScopeObject = Literal["dataset", "evaluation", "event"]

ALL_SCOPES: tuple[str, ...] = (
    "dataset:read",
    "dataset:write",
    "evaluation:read",
    "evaluation:write",
    "event:read",
    "event:write",
)
WRITE_ONLY_OBJECTS = frozenset({"event"})
"""Objects whose write scope does not allow reading them."""
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def required_scope(scope_object: ScopeObject, method: str) -> str:
    """The scope a request needs: GET/HEAD/OPTIONS read, every other method writes."""
    return f"{scope_object}:{'read' if method.upper() in READ_METHODS else 'write'}"


def normalize_scopes(scopes: list[str]) -> list[str]:
    """Validate and de-duplicate scopes, keeping the canonical order; `*` means all scopes."""
    wanted = {s.strip() for s in scopes if s.strip()}
    if "*" in wanted:
        return list(ALL_SCOPES)
    unknown = sorted(wanted - set(ALL_SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}; known scopes: {', '.join(ALL_SCOPES)}")
    if not wanted:
        raise ValueError("at least one scope is required")
    return [s for s in ALL_SCOPES if s in wanted]


def has_scope(granted: list[str], needed: str) -> bool:
    """Whether `granted` allows `needed`; a write scope also allows reading the same object (not events)."""
    if needed in granted:
        return True
    obj, _, action = needed.partition(":")
    return action == "read" and obj not in WRITE_ONLY_OBJECTS and f"{obj}:write" in granted
