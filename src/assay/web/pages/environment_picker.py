"""`/environments`: a person with roles in several environments picks the one to work in (a new session in it).

A key belongs to one environment: the page lists just that one.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from assay.errors import ResourceNotFound
from assay.storage.users import user_environments
from assay.web.auth import AppSettings, DbSession, User
from assay.web.errors import mark_page
from assay.web.pages.sign_in import open_session, safe_next
from assay.web.session_cookie import WebSession, new_csrf_token
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)


@router.get("/environments")
async def environments_page(request: Request, session: DbSession, user: User, next: str | None = None) -> Response:
    """The environments this person has a role in, with the role, each a button to switch to it."""
    if user.user_id is None:
        choices = [{"id": user.environment_id, "name": user.environment_name, "role": None}]
    else:
        rows = await user_environments(session=session, user_id=user.user_id)
        choices = [{"id": env.id, "name": env.name, "role": role} for env, role in rows]
    return render(request, "environments.html", {"choices": choices, "next_url": safe_next(next)})


@router.post("/environments/switch")
async def switch_environment(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: User,
    environment_id: Annotated[uuid.UUID, Form()],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Open a session in another environment of this person (one they have no role in is not found)."""
    if user.user_id is None:
        raise ResourceNotFound("An API key works in its own environment only.")
    rows = await user_environments(session=session, user_id=user.user_id)
    if all(env.id != environment_id for env, _ in rows):
        raise ResourceNotFound("No such environment.")
    web_session = WebSession(
        key_id=None, environment_id=environment_id, csrf_token=new_csrf_token(), user_id=user.user_id
    )
    return open_session(request, settings, web_session, safe_next(next))
