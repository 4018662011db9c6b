"""Who is signed in to the web UI, what their key or role allows, and the CSRF check on every state change.

Every request re-reads the key (or the person's role) behind the session, so revoking a key or removing a
person ends their sessions at once and a change of scopes or role applies on the next page.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from assay.domain.roles import may_review, parse_role, role_scopes
from assay.domain.scopes import ScopeObject, has_scope
from assay.errors import AuthError
from assay.settings import Settings
from assay.storage.db import Session
from assay.storage.environments import active_key_with_environment
from assay.storage.users import user_with_role
from assay.web.session_cookie import SESSION_COOKIE, SessionSigner, WebSession, tokens_match

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """No valid session: pages redirect to the sign-in form, other requests answer 401."""


@dataclass(frozen=True, slots=True)
class WebUser:
    """The signed-in key or person: the environment, the scopes (a person's role's), the session's CSRF token.

    A person has `user_id`, `user_email` and `role` set, `key_name` is their name and `key_id` None.
    """

    key_id: uuid.UUID | None
    key_name: str
    key_prefix: str
    environment_id: uuid.UUID
    environment_name: str
    scopes: tuple[str, ...]
    csrf_token: str
    user_id: uuid.UUID | None = None
    user_email: str = ""
    role: str | None = None

    @property
    def may_review(self) -> bool:
        """Whether overrides are allowed: a key with `evaluation:write`, a reviewer or an admin."""
        if self.role is not None:
            return may_review(parse_role(self.role))
        return self.can_write("evaluation")

    def require_review(self) -> None:
        if not self.may_review:
            raise AuthError("Reviewing takes the reviewer or admin role.", status_code=403, code="permission_denied")

    def can_read(self, scope_object: ScopeObject) -> bool:
        return has_scope(list(self.scopes), f"{scope_object}:read")

    def can_write(self, scope_object: ScopeObject) -> bool:
        return has_scope(list(self.scopes), f"{scope_object}:write")

    def require_read(self, scope_object: ScopeObject) -> None:
        if not self.can_read(scope_object):
            raise AuthError(
                f"API key missing required scope '{scope_object}:read'", status_code=403, code="permission_denied"
            )

    def require_write(self, scope_object: ScopeObject) -> None:
        if not self.can_write(scope_object):
            raise AuthError(
                f"API key missing required scope '{scope_object}:write'", status_code=403, code="permission_denied"
            )

    @property
    def who(self) -> str:
        """How overrides and runs record this user: `Name <email>` for a person, the key id (as the API) for a key."""
        if self.user_id is not None:
            return f"{self.key_name} <{self.user_email}>"
        return str(self.key_id)


def signer(request: Request) -> SessionSigner:
    found: SessionSigner = request.app.state.web_signer
    return found


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def db_session(request: Request) -> AsyncIterator[Session]:
    async with request.app.state.sessionmaker() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]
AppSettings = Annotated[Settings, Depends(app_settings)]


def sign_in_url(request: Request) -> str:
    """The sign-in form, returning to the current page afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


async def load_user(request: Request, session: Session, web_session: WebSession | None) -> WebUser | None:
    if web_session is None:
        return None
    if web_session.user_id is not None:
        return await load_person(session, web_session)
    if web_session.key_id is None:
        return None
    found = await active_key_with_environment(session=session, key_id=web_session.key_id)
    if found is None or found[0].environment_id != web_session.environment_id:
        return None
    key, environment = found
    return WebUser(
        key_id=key.id,
        key_name=key.name,
        key_prefix=key.prefix,
        environment_id=environment.id,
        environment_name=environment.name,
        scopes=tuple(key.scopes),
        csrf_token=web_session.csrf_token,
    )


async def load_person(session: Session, web_session: WebSession) -> WebUser | None:
    """A person's session, as long as they still have a role in its environment."""
    assert web_session.user_id is not None
    found = await user_with_role(
        session=session, user_id=web_session.user_id, environment_id=web_session.environment_id
    )
    if found is None:
        return None
    person, role, environment = found
    return WebUser(
        key_id=None,
        key_name=person.name,
        key_prefix="",
        environment_id=environment.id,
        environment_name=environment.name,
        scopes=role_scopes(parse_role(role)),
        csrf_token=web_session.csrf_token,
        user_id=person.id,
        user_email=person.email,
        role=role,
    )


async def current_user(request: Request, session: DbSession) -> WebUser:
    """The signed-in user; state-changing requests must also carry the session's CSRF token."""
    web_session = signer(request).load_session(request.cookies.get(SESSION_COOKIE))
    user = await load_user(request, session, web_session)
    if user is None:
        raise SignInRequired
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await check_csrf(request, user.csrf_token)
    request.state.web_user = user
    return user


async def check_csrf(request: Request, expected: str) -> None:
    """The token must come in the `X-CSRF-Token` header or the form's `csrf_token` field."""
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not tokens_match(expected, presented):
        raise AuthError("CSRF token missing or incorrect.", status_code=403, code="csrf_failed")


User = Annotated[WebUser, Depends(current_user)]
