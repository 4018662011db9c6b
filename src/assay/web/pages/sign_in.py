"""Sign in with an API key, sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from assay.storage.environments import authenticate_key
from assay.web.auth import AppSettings, DbSession, User, load_user, signer
from assay.web.errors import mark_page
from assay.web.session_cookie import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    WebSession,
    new_csrf_token,
    tokens_match,
)
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path of this site (never `//host` or a scheme) may follow sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def is_https(request: Request, settings: AppSettings) -> bool:
    return request.url.scheme == "https" or (settings.public_url or "").startswith("https://")


def _login_form(request: Request, settings: AppSettings, *, next_url: str, error: str | None, status: int) -> Response:
    token = new_csrf_token()
    response = render(
        request,
        "login.html",
        {"form_token": token, "next_url": next_url, "error": error},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        signer(request).dump_login(token),
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
        path="/login",
    )
    return response


@router.get("/login")
async def login_page(request: Request, session: DbSession, settings: AppSettings, next: str | None = None) -> Response:
    """The sign-in form (or the next page when already signed in)."""
    current = signer(request).load_session(request.cookies.get(SESSION_COOKIE))
    if await load_user(request, session, current) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, settings, next_url=safe_next(next), error=None, status=200)


@router.post("/login")
async def login(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    api_key: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the key; on success open a session and go on to `next`."""
    expected = signer(request).load_login(request.cookies.get(LOGIN_COOKIE))
    if expected is None or not tokens_match(expected, csrf_token):
        return _login_form(
            request, settings, next_url=safe_next(next), error="The form expired. Try again.", status=403
        )
    key = await authenticate_key(session=session, key=api_key.strip()) if api_key.strip() else None
    if key is None:
        return _login_form(request, settings, next_url=safe_next(next), error="That API key is not valid.", status=401)
    web_session = WebSession(key_id=key.id, environment_id=key.environment_id, csrf_token=new_csrf_token())
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signer(request).dump_session(web_session),
        max_age=signer(request).max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, user: User) -> Response:
    """End the session (the CSRF token is checked, so no other site can sign a user out)."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
