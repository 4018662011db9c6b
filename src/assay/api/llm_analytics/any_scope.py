"""Access for routes whose scope does not follow the method (`test_hog` reads with POST; events are
readable with either of two scopes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from assay.api.deps import AuthDep, Principal
from assay.domain.scopes import has_scope
from assay.errors import AuthError


def environment_any_scope(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """For `/api/environments/{environment_id}/…`: the key must belong to that environment and hold one of `scopes`.

    A write scope also allows the read of the same object (`has_scope`).
    """
    wanted = " or ".join(f"'{s}'" for s in scopes)

    async def dependency(environment_id: str, principal: AuthDep) -> Principal:
        if not principal.owns(environment_id):
            raise AuthError("You don't have access to this environment.", status_code=403, code="permission_denied")
        if not any(has_scope(list(principal.scopes), s) for s in scopes):
            raise AuthError(f"API key missing required scope {wanted}", status_code=403, code="permission_denied")
        return principal

    return dependency
