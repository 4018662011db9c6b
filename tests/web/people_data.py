"""People for web tests: accounts made through the service (as `assay user create`), signed in through the form."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from assay.services import users as user_service
from assay.settings import Settings
from assay.storage.db import make_sessionmaker
from tests.web.conftest import form_token

PASSWORD = "correct horse battery"


def cheap_hashing_settings(database_url: str) -> Settings:
    """The test settings with argon2 at a small memory and time cost (the default costs about a second here)."""
    return Settings(  # type: ignore[call-arg]
        database_url=database_url,
        max_body_bytes=1024 * 1024,
        password_memory_kib=256,
        password_time_cost=1,
        _env_file=None,
    )


async def make_person(app: Any, environment_id: str, email: str, name: str, role: str) -> uuid.UUID:
    async with make_sessionmaker(app.state.engine)() as session:
        user, _ = await user_service.create_user(
            session=session,
            passwords=app.state.passwords,
            email=email,
            name=name,
            password=PASSWORD,
            environment=environment_id,
            role=role,
        )
        return user.id


async def person_sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    """Post the account form; the answer (303 on success)."""
    page = await client.get("/login")
    return await client.post(
        "/login", data={"email": email, "password": password, "csrf_token": form_token(page.text), "next": "/"}
    )


async def signed_in_token(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign in and return the session's CSRF token."""
    answer = await person_sign_in(client, email, password)
    assert answer.status_code == 303, answer.text
    home = await client.get(answer.headers["location"])
    assert home.status_code == 200, home.text
    return form_token(home.text)


_INVITE = re.compile(r'id="new-invite-url">[^<]*/invite/([^<"]+)<')


def invite_token(html: str) -> str:
    found = _INVITE.search(html)
    assert found, "no invite link on the page"
    return found.group(1)
