"""Accepting an invite (`/invite/{token}`): set a name and password (or confirm the password of an existing
account), join the environment with the invite's role, and be signed in.

An unknown token is a 404; a used or expired invite a 410 with a page saying so.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from assay.errors import AuthError, ValidationFailed
from assay.services import invites as invite_service
from assay.services.invites import InviteGone, InviteView
from assay.web.auth import AppSettings, DbSession, signer
from assay.web.errors import mark_page
from assay.web.pages.sign_in import client_address, open_session, passwords
from assay.web.session_cookie import WebSession, new_csrf_token, tokens_match
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

INVITE_COOKIE = "assay_invite"
"""Holds the CSRF token of the invite form, before there is a session (as the sign-in form's cookie)."""


def _gone(request: Request, exc: InviteGone) -> Response:
    return render(request, "error.html", {"title": "Invite not usable", "detail": exc.message}, status_code=410)


def _form(request: Request, token: str, view: InviteView, *, error: str | None, name: str, status: int) -> Response:
    form_token = new_csrf_token()
    response = render(
        request,
        "invite.html",
        {"token": token, "view": view, "error": error, "name": name, "form_token": form_token},
        status_code=status,
    )
    response.set_cookie(
        INVITE_COOKIE,
        signer(request).dump_login(form_token),
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/invite",
    )
    return response


@router.get("/invite/{token}")
async def invite_page(request: Request, token: str, session: DbSession) -> Response:
    """The invite: who is invited where, and the form to join."""
    try:
        view = await invite_service.view_invite(session=session, token=token)
    except InviteGone as exc:
        return _gone(request, exc)
    return _form(request, token, view, error=None, name="", status=200)


@router.post("/invite/{token}")
async def accept_invite(
    request: Request,
    token: str,
    session: DbSession,
    settings: AppSettings,
    name: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Join and sign in (the form's CSRF token is checked, so no other site can sign a browser in)."""
    expected = signer(request).load_login(request.cookies.get(INVITE_COOKIE))
    if expected is None or not tokens_match(expected, csrf_token):
        raise AuthError("The form expired: open the invite link again.", status_code=403, code="csrf_failed")
    try:
        user, environment_id = await invite_service.accept_invite(
            session=session,
            passwords=passwords(request),
            token=token,
            name=name,
            password=password,
            address=client_address(request),
        )
    except InviteGone as exc:
        return _gone(request, exc)
    except (ValidationFailed, AuthError) as exc:
        await session.rollback()
        view = await invite_service.view_invite(session=session, token=token)
        status = exc.status_code if isinstance(exc, AuthError) else 422
        return _form(request, token, view, error=exc.message, name=name, status=status)
    web_session = WebSession(key_id=None, environment_id=environment_id, csrf_token=new_csrf_token(), user_id=user.id)
    response = open_session(request, settings, web_session, "/")
    response.delete_cookie(INVITE_COOKIE, path="/invite")
    return response
