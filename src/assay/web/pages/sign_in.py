"""Sign in with an account (email and password) or an API key (for automation), sign out.

A person with roles in several environments signs in to the first by name and picks another at `/environments`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from assay.errors import AuthError
from assay.services import users as user_service
from assay.services.passwords import Passwords
from assay.services.users import SignInLocked
from assay.storage.environments import authenticate_key
from assay.storage.users import user_environments
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


def passwords(request: Request) -> Passwords:
    """The application's password hasher (its cost from the settings)."""
    found: Passwords = request.app.state.passwords
    return found


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_form(
    request: Request,
    settings: AppSettings,
    *,
    next_url: str,
    error: str | None,
    status: int,
    email: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    token = new_csrf_token()
    response = render(
        request,
        "login.html",
        {"form_token": token, "next_url": next_url, "error": error, "email": email},
        status_code=status,
    )
    response.headers.update(headers or {})
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
    email: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the email and password (or the key); on success open a session and go on to `next`."""
    expected = signer(request).load_login(request.cookies.get(LOGIN_COOKIE))
    if expected is None or not tokens_match(expected, csrf_token):
        return _login_form(
            request, settings, next_url=safe_next(next), error="The form expired. Try again.", status=403
        )
    if email.strip():
        return await _person_sign_in(request, session, settings, email=email, password=password, next_url=next)
    key = await authenticate_key(session=session, key=api_key.strip()) if api_key.strip() else None
    if key is None:
        return _login_form(request, settings, next_url=safe_next(next), error="That API key is not valid.", status=401)
    web_session = WebSession(key_id=key.id, environment_id=key.environment_id, csrf_token=new_csrf_token())
    return open_session(request, settings, web_session, safe_next(next))


async def _person_sign_in(
    request: Request, session: DbSession, settings: AppSettings, *, email: str, password: str, next_url: str
) -> Response:
    try:
        person = await user_service.authenticate(
            session=session,
            passwords=passwords(request),
            email=email,
            password=password,
            address=client_address(request),
        )
    except SignInLocked as exc:
        return _login_form(
            request,
            settings,
            next_url=safe_next(next_url),
            error=exc.message,
            status=429,
            email=email,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except AuthError as exc:
        return _login_form(
            request, settings, next_url=safe_next(next_url), error=exc.message, status=exc.status_code, email=email
        )
    environments = await user_environments(session=session, user_id=person.id)
    if not environments:
        return _login_form(
            request,
            settings,
            next_url=safe_next(next_url),
            error="Your account has no role in any environment. Ask an admin to invite you.",
            status=403,
            email=email,
        )
    first = environments[0][0]
    web_session = WebSession(key_id=None, environment_id=first.id, csrf_token=new_csrf_token(), user_id=person.id)
    target = safe_next(next_url)
    if len(environments) > 1:
        target = f"/environments?next={quote(target, safe='')}"
    return open_session(request, settings, web_session, target)


def open_session(request: Request, settings: AppSettings, web_session: WebSession, target: str) -> Response:
    """Set the session cookie and go to `target`."""
    response = RedirectResponse(target, status_code=303)
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
