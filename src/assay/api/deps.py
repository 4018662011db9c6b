"""Request dependencies: the database session, the authenticated key, and scope checks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from assay.domain.scopes import ScopeObject, has_scope, required_scope
from assay.errors import AuthError
from assay.settings import Settings
from assay.storage.db import Session
from assay.storage.environments import authenticate_key_with_project


async def get_session(request: Request) -> AsyncIterator[Session]:
    async with request.app.state.sessionmaker() as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]

_bearer = HTTPBearer(auto_error=False, description="A personal API key: `Authorization: Bearer <key>`.")
_x_api_key = APIKeyHeader(name="X-Api-Key", auto_error=False, description="A personal API key: `X-Api-Key: <key>`.")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key, its environment and its scopes."""

    key_id: uuid.UUID
    environment_id: uuid.UUID
    scopes: tuple[str, ...]
    project_number: int | None = None
    """The environment's integer alias (PostHog's project id)."""

    def owns(self, environment_id: str) -> bool:
        """Whether a path's environment (`@current`, the UUID or the integer alias) is the key's."""
        if environment_id in ("@current", str(self.environment_id)):
            return True
        return self.project_number is not None and environment_id == str(self.project_number)

    def require(self, scope: str) -> None:
        if not has_scope(list(self.scopes), scope):
            raise AuthError(f"API key missing required scope '{scope}'", status_code=403, code="permission_denied")


async def _authenticate(
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_api_key: Annotated[str | None, Depends(_x_api_key)],
) -> Principal:
    key = (bearer.credentials if bearer else None) or x_api_key
    if not key:
        raise AuthError("Authentication credentials were not provided.", status_code=401, code="not_authenticated")
    found = await authenticate_key_with_project(session=session, key=key.strip())
    if found is None:
        raise AuthError("Invalid API key.", status_code=401, code="authentication_failed")
    row, number = found
    return Principal(key_id=row.id, environment_id=row.environment_id, scopes=tuple(row.scopes), project_number=number)


AuthDep = Annotated[Principal, Depends(_authenticate)]


def environment_access(scope_object: ScopeObject) -> Callable[..., Awaitable[Principal]]:
    """For `/api/environments/{environment_id}/…`: the key must belong to that environment and hold the scope."""

    async def dependency(request: Request, environment_id: str, principal: AuthDep) -> Principal:
        if not principal.owns(environment_id):
            raise AuthError("You don't have access to this environment.", status_code=403, code="permission_denied")
        principal.require(required_scope(scope_object, request.method))
        return principal

    return dependency


def tenant_access(scope_object: ScopeObject) -> Callable[..., Awaitable[Principal]]:
    """For `/v1/…`: the environment is the key's; the key must hold the scope."""

    async def dependency(request: Request, principal: AuthDep) -> Principal:
        principal.require(required_scope(scope_object, request.method))
        return principal

    return dependency


def project_access(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """For `/api/projects/{project_id}/…` (PostHog's SDK paths): the project (the integer alias, the UUID or
    `@current`) must be the key's, and the key must hold one of `scopes`."""

    async def dependency(project_id: str, principal: AuthDep) -> Principal:
        if not principal.owns(project_id):
            raise AuthError("You don't have access to this project.", status_code=403, code="permission_denied")
        if not any(has_scope(list(principal.scopes), s) for s in scopes):
            wanted = " or ".join(f"'{s}'" for s in scopes)
            raise AuthError(f"API key missing required scope {wanted}", status_code=403, code="permission_denied")
        return principal

    return dependency
