"""Roles map onto the API's scopes; failed sign-ins lock for a doubling, capped time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assay.domain.roles import may_review, parse_role, role_scopes
from assay.domain.scopes import ALL_SCOPES, has_scope
from assay.domain.sign_in_throttle import ACCOUNT_POLICY


def test_roles_map_onto_scopes() -> None:
    for role in ("viewer", "reviewer"):
        scopes = list(role_scopes(parse_role(role)))
        assert all(has_scope(scopes, f"{o}:read") for o in ("dataset", "evaluation", "event"))
        assert not any(has_scope(scopes, f"{o}:write") for o in ("dataset", "evaluation", "event"))
    assert role_scopes(parse_role(" Admin ")) == ALL_SCOPES
    assert [may_review(parse_role(r)) for r in ("viewer", "reviewer", "admin")] == [False, True, True]
    with pytest.raises(ValueError, match="known roles: viewer, reviewer, admin"):
        parse_role("owner")


def test_the_account_lock_doubles_up_to_its_cap() -> None:
    locks = [ACCOUNT_POLICY.lock_for(n) for n in range(1, 12)]
    assert locks[:4] == [timedelta(0)] * 4
    assert locks[4:8] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert locks[-1] == timedelta(minutes=15) == ACCOUNT_POLICY.lock_for(10_000)
