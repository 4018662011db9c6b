"""People in `/admin`: invite (a link shown once), change a role, remove from the environment, withdraw an invite.

Writes go through `services/invites.py` and `services/users.py`; only an admin (or a key holding every scope)
manages people, and an environment always keeps one admin.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from assay.errors import ConflictError, ValidationFailed
from assay.services import invites as invite_service
from assay.services import users as user_service
from assay.web.auth import AppSettings, DbSession, User
from assay.web.errors import mark_page
from assay.web.pages.admin import render_admin_page
from assay.web.people_section import actor_of

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

TextField = Annotated[str, Form(max_length=400)]


def invite_url(request: Request, settings: AppSettings, token: str) -> str:
    """The link to send: on the public URL when one is configured, else on the address this request came to."""
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    return f"{base}/invite/{token}"


@router.post("/admin/people/invite")
async def invite_person(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: User,
    email: TextField = "",
    role: TextField = "reviewer",
) -> Response:
    """Create an invite; the answer page shows its link once."""
    try:
        created = await invite_service.create_invite(session=session, actor=actor_of(user), email=email, role=role)
    except (ValidationFailed, ConflictError) as exc:
        await session.rollback()
        status = 409 if isinstance(exc, ConflictError) else 422
        extra: dict[str, Any] = {"invite_error": exc.message, "invite_form": {"email": email, "role": role}}
        return await render_admin_page(request, session, user, settings, people=extra, status_code=status)
    extra = {"new_invite": created.row, "new_invite_url": invite_url(request, settings, created.token)}
    page = await render_admin_page(request, session, user, settings, people=extra)
    page.headers["Cache-Control"] = "no-store"
    return page


@router.post("/admin/people/{user_id}/role")
async def change_role(
    request: Request, user_id: uuid.UUID, session: DbSession, settings: AppSettings, user: User, role: TextField = ""
) -> Response:
    """Give a person of this environment another role."""
    try:
        await user_service.change_role(session=session, actor=actor_of(user), user_id=user_id, role=role)
    except ConflictError as exc:
        await session.rollback()
        return await render_admin_page(
            request, session, user, settings, people={"people_error": exc.message}, status_code=409
        )
    return RedirectResponse("/admin?notice=role-changed#people", status_code=303)


@router.post("/admin/people/{user_id}/remove")
async def remove_person(
    request: Request, user_id: uuid.UUID, session: DbSession, settings: AppSettings, user: User
) -> Response:
    """Take a person out of this environment (their keys here are revoked, their sessions here end)."""
    try:
        await user_service.remove_person(session=session, actor=actor_of(user), user_id=user_id)
    except ConflictError as exc:
        await session.rollback()
        return await render_admin_page(
            request, session, user, settings, people={"people_error": exc.message}, status_code=409
        )
    if user_id == user.user_id:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/admin?notice=person-removed#people", status_code=303)


@router.post("/admin/invites/{invite_id}/withdraw")
async def withdraw_invite(invite_id: uuid.UUID, session: DbSession, user: User) -> Response:
    """Make an open invite unusable."""
    await invite_service.withdraw_invite(session=session, actor=actor_of(user), invite_id=invite_id)
    return RedirectResponse("/admin?notice=invite-withdrawn#people", status_code=303)
