"""People's roles in an environment and what each allows, in terms of the API's scopes.

- viewer: every read scope;
- reviewer: every read scope, and reviewing: overriding result scores and undoing their own overrides (the
  one `evaluation:write` action a reviewer holds; starting runs or editing suites stays an admin's);
- admin: every scope, so also API keys, the project token, provider keys and people.
"""

from __future__ import annotations

from typing import Literal

from assay.domain.scopes import ALL_SCOPES

Role = Literal["viewer", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "reviewer", "admin")
READ_SCOPES: tuple[str, ...] = tuple(s for s in ALL_SCOPES if s.endswith(":read"))
ROLE_SCOPES: dict[Role, tuple[str, ...]] = {"viewer": READ_SCOPES, "reviewer": READ_SCOPES, "admin": ALL_SCOPES}
REVIEWING_ROLES: frozenset[Role] = frozenset({"reviewer", "admin"})


def parse_role(text: str) -> Role:
    """The role named by `text`; `ValueError` naming the known roles otherwise."""
    value = text.strip().lower()
    for role in ROLES:
        if role == value:
            return role
    raise ValueError(f"unknown role {text!r}; known roles: {', '.join(ROLES)}")


def role_scopes(role: Role) -> tuple[str, ...]:
    """The API scopes a role holds."""
    return ROLE_SCOPES[role]


def may_review(role: Role) -> bool:
    """Whether the role may override results (reviewers and admins)."""
    return role in REVIEWING_ROLES
