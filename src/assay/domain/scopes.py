"""API key scopes: `<object>:read` for reads, `<object>:write` for everything else.

A write scope also allows reading the same object, except for events: `event:write` is what a key
for producers needs (ingestion, project token rotation), and reading every logged prompt and answer
takes `event:read`.

The scopes PostHog's SDK documents are Assay scopes too, with the same meaning: `llm_analytics:read` /
`llm_analytics:write` are `evaluation:read` / `evaluation:write` (scorers, evaluations), and
`offline_evaluation_ingestion:write` only uploads offline experiments (which `evaluation:write` also allows).
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
SDK_SCOPES: tuple[str, ...] = ("llm_analytics:read", "llm_analytics:write", "offline_evaluation_ingestion:write")
"""The scopes of PostHog's SDK, accepted beside Assay's own."""
KNOWN_SCOPES: tuple[str, ...] = ALL_SCOPES + SDK_SCOPES
GRANTS: dict[str, tuple[str, ...]] = {
    "llm_analytics:read": ("evaluation:read",),
    "llm_analytics:write": ("evaluation:write",),
}
"""What an SDK scope grants of Assay's own scopes."""
IMPLIED_BY: dict[str, tuple[str, ...]] = {
    "llm_analytics:read": ("evaluation:read", "evaluation:write"),
    "llm_analytics:write": ("evaluation:write",),
    "offline_evaluation_ingestion:write": ("evaluation:write", "llm_analytics:write"),
}
"""The scopes that allow everything an SDK scope allows (so a key holding them may grant it)."""
WRITE_ONLY_OBJECTS = frozenset({"event", "offline_evaluation_ingestion"})
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
    unknown = sorted(wanted - set(KNOWN_SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}; known scopes: {', '.join(KNOWN_SCOPES)}")
    if not wanted:
        raise ValueError("at least one scope is required")
    return [s for s in KNOWN_SCOPES if s in wanted]


def has_scope(granted: list[str] | tuple[str, ...], needed: str) -> bool:
    """Whether `granted` allows `needed`; a write scope also allows reading the same object (not events).

    SDK scopes count as the Assay scopes they grant (`GRANTS`), and are allowed by the scopes that imply them.
    """
    held = set(granted)
    for scope in granted:
        held.update(GRANTS.get(scope, ()))
    if needed in held or any(s in held for s in IMPLIED_BY.get(needed, ())):
        return True
    obj, _, action = needed.partition(":")
    return action == "read" and obj not in WRITE_ONLY_OBJECTS and f"{obj}:write" in held
