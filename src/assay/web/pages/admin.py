"""Administration (`/admin`): the environment and its project token (copy, rotate), its API keys (list with
their owners, create: shown once, revoke), its people (`web/pages/people.py`) and its LLM provider keys (list
masked, create, delete).

Writes go through `services/environments.py`, `services/api_keys.py` and `services/provider_keys.py`, with the
scopes the API uses: `event:write` rotates the token, `evaluation:read`/`write` read and change provider keys,
and only a key holding every scope manages API keys.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from assay.domain.providers import PROVIDERS
from assay.domain.scopes import ALL_SCOPES
from assay.errors import ValidationFailed
from assay.services import api_keys as key_service
from assay.services import environments as environment_service
from assay.services import provider_keys as provider_key_service
from assay.services.api_keys import KeyHolder
from assay.settings import Settings
from assay.storage import environments as environment_store
from assay.storage import provider_keys as provider_key_store
from assay.storage import users as user_store
from assay.storage.db import Session
from assay.storage.tables import ApiKeyRow
from assay.web.auth import AppSettings, DbSession, User, WebUser
from assay.web.errors import mark_page
from assay.web.people_section import people_context
from assay.web.session_cookie import SESSION_COOKIE
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

PROVIDER_KEYS_SHOWN = 200
NOTICES = {
    "rotated": "The project token was rotated: SDKs sending the old token are refused from now on.",
    "revoked": "The API key was revoked.",
    "provider-added": "Provider key added.",
    "provider-deleted": "Provider key deleted.",
    "role-changed": "The role was changed.",
    "person-removed": "The person was removed from this environment (and the API keys they own here revoked).",
    "invite-withdrawn": "The invite was withdrawn.",
}
TextField = Annotated[str, Form()]


def _holder(user: WebUser) -> KeyHolder:
    return KeyHolder(key_id=user.key_id, environment_id=user.environment_id, scopes=user.scopes, user_id=user.user_id)


async def render_admin_page(
    request: Request,
    session: Session,
    user: WebUser,
    settings: Settings,
    *,
    new_key: str | None = None,
    new_key_row: ApiKeyRow | None = None,
    key_error: str | None = None,
    key_form: dict[str, Any] | None = None,
    provider_error: str | None = None,
    provider_form: dict[str, str] | None = None,
    people: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The page; `people` adds to the People section's context (a new invite's link, its form's error)."""
    environment = await environment_store.find_environment(session=session, id_or_name=str(user.environment_id))
    keys = await environment_store.list_api_keys(session=session, environment_id=user.environment_id)
    owners = await user_store.user_names(
        session=session, user_ids=list({k.owner_user_id for k in keys if k.owner_user_id is not None})
    )
    provider_keys: list[dict[str, Any]] = []
    provider_count = 0
    if user.can_read("evaluation"):
        provider_count, rows = await provider_key_store.list_provider_keys(
            session=session, environment_id=user.environment_id, limit=PROVIDER_KEYS_SHOWN, offset=0
        )
        provider_keys = [
            {"row": row, "mask": provider_key_service.api_key_mask(row, settings.secret_key)} for row in rows
        ]
    return render(
        request,
        "admin.html",
        {
            "environment": environment,
            "keys": keys,
            "owners": owners,
            **await people_context(session, user),
            **(people or {}),
            "all_scopes": ALL_SCOPES,
            "may_manage_keys": key_service.may_manage_keys(user.scopes),
            "providers": PROVIDERS,
            "provider_keys": provider_keys,
            "provider_count": provider_count,
            "notice": NOTICES.get(request.query_params.get("notice", "")),
            "new_key": new_key,
            "new_key_row": new_key_row,
            "key_error": key_error,
            "key_form": key_form or {"name": "", "scopes": []},
            "provider_error": provider_error,
            "provider_form": provider_form or {"provider": "openai", "name": "", "base_url": ""},
        },
        status_code=status_code,
    )


def _back(notice: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/admin?notice={notice}#{anchor}", status_code=303)


@router.get("/admin")
async def admin_page(request: Request, session: DbSession, settings: AppSettings, user: User) -> Response:
    """The environment, its token, API keys and provider keys; write controls only for keys that may use them."""
    return await render_admin_page(request, session, user, settings)


@router.post("/admin/token/rotate")
async def rotate_token(session: DbSession, user: User) -> Response:
    """Give the environment a new project token (as the API's `reset_token`)."""
    user.require_write("event")
    await environment_service.rotate_project_token(session=session, environment_id=user.environment_id)
    return _back("rotated", "environment")


@router.post("/admin/keys")
async def create_key(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: User,
    name: TextField = "",
    scope: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create an API key; the answer page shows the key once (it is never shown again)."""
    scopes = scope or []
    try:
        created = await key_service.create_api_key(session=session, holder=_holder(user), name=name, scopes=scopes)
    except ValidationFailed as exc:
        await session.rollback()
        form = {"name": name, "scopes": scopes}
        return await render_admin_page(
            request, session, user, settings, key_error=exc.message, key_form=form, status_code=422
        )
    page = await render_admin_page(request, session, user, settings, new_key=created.key, new_key_row=created.row)
    page.headers["Cache-Control"] = "no-store"  # the key is on this page only; keep it out of caches
    return page


@router.post("/admin/keys/{key_id}/revoke")
async def revoke_key(key_id: uuid.UUID, session: DbSession, user: User) -> Response:
    """Revoke a key; revoking the key signed in with signs out."""
    await key_service.revoke_api_key(session=session, holder=_holder(user), key_id=key_id)
    if key_id == user.key_id:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    return _back("revoked", "api-keys")


@router.post("/admin/provider-keys")
async def create_provider_key(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: User,
    provider: TextField = "",
    name: TextField = "",
    api_key: TextField = "",
    base_url: TextField = "",
) -> Response:
    """Add a provider key, with the API's validation; the form again with the problem otherwise (422)."""
    user.require_write("evaluation")
    try:
        parsed = provider_key_service.parse_key_form(provider=provider, name=name, api_key=api_key, base_url=base_url)
        secret = parsed.pop("api_key")
        await provider_key_service.create_provider_key(
            session=session,
            environment_id=user.environment_id,
            fields=parsed,
            api_key=secret,
            secret_key=settings.secret_key,
            created_by_id=user.key_id,
        )
    except ValidationFailed as exc:
        await session.rollback()
        form = {"provider": provider, "name": name, "base_url": base_url}
        return await render_admin_page(
            request, session, user, settings, provider_error=exc.message, provider_form=form, status_code=422
        )
    return _back("provider-added", "provider-keys")


@router.post("/admin/provider-keys/{key_id}/delete")
async def delete_provider_key(key_id: uuid.UUID, session: DbSession, user: User) -> Response:
    """Delete a provider key of this environment (another environment's is not found)."""
    user.require_write("evaluation")
    await provider_key_service.delete_provider_key(session=session, environment_id=user.environment_id, key_id=key_id)
    return _back("provider-deleted", "provider-keys")
