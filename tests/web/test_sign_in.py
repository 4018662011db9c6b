"""Signing in to the web UI: the session cookie, sign-out, expiry, CSRF, scopes and headers."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from assay.storage import environments as env_store
from assay.storage.db import make_sessionmaker
from assay.web.session_cookie import SESSION_COOKIE
from tests.conftest import Env, add_key
from tests.web.conftest import form_token, sign_in


async def test_pages_need_a_session(client: httpx.AsyncClient) -> None:
    answer = await client.get("/", params={"x": "1"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2F%3Fx%3D1"


async def test_sign_in_sets_a_safe_cookie_and_shows_the_suites(client: httpx.AsyncClient, env_a: Env) -> None:
    page = await client.get("/login")
    answer = await client.post("/login", data={"api_key": env_a.key, "csrf_token": form_token(page.text), "next": "/"})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "max-age", "path", "samesite"} <= attributes
    assert "samesite=lax" in cookie.lower() and "secure" not in attributes  # plain http here
    assert env_a.key not in cookie
    home = await client.get("/")
    assert home.status_code == 200 and "Suites" in home.text and env_a.name in home.text


async def test_cookie_is_secure_over_https(app, env_a: Env) -> None:  # noqa: ANN001
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as https:
        page = await https.get("/login")
        answer = await https.post("/login", data={"api_key": env_a.key, "csrf_token": form_token(page.text)})
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
        assert "secure" in cookie.lower()


async def test_a_wrong_key_is_refused_with_the_form_again(client: httpx.AsyncClient, env_a: Env) -> None:
    page = await client.get("/login")
    answer = await client.post("/login", data={"api_key": "ak_wrong", "csrf_token": form_token(page.text)})
    assert answer.status_code == 401 and "not valid" in answer.text
    assert SESSION_COOKIE not in answer.cookies
    assert (await client.get("/")).status_code == 303


async def test_sign_in_without_the_form_token_is_refused(client: httpx.AsyncClient, env_a: Env) -> None:
    await client.get("/login")
    answer = await client.post("/login", data={"api_key": env_a.key, "csrf_token": "forged"})
    assert answer.status_code == 403
    assert (await client.get("/")).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
async def test_next_never_leaves_the_site(client: httpx.AsyncClient, env_a: Env, target: str) -> None:
    page = await client.get("/login")
    answer = await client.post(
        "/login", data={"api_key": env_a.key, "csrf_token": form_token(page.text), "next": target}
    )
    assert answer.headers["location"] == "/"


async def test_sign_out_needs_the_csrf_token_and_ends_the_session(client: httpx.AsyncClient, env_a: Env) -> None:
    token = await sign_in(client, env_a.key)
    refused = await client.post("/logout")
    assert refused.status_code == 403 and "CSRF" in refused.text
    refused = await client.post("/logout", data={"csrf_token": "not-it"})
    assert refused.status_code == 403
    assert (await client.get("/")).status_code == 200
    done = await client.post("/logout", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert (await client.get("/")).status_code == 303


async def test_a_session_expires(app, client: httpx.AsyncClient, env_a: Env) -> None:  # noqa: ANN001
    await sign_in(client, env_a.key)
    app.state.web_signer.max_age_seconds = 1
    await asyncio.sleep(2.1)
    answer = await client.get("/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    posted = await client.post("/logout", data={"csrf_token": "x"})
    assert posted.status_code == 401 and "Sign in again" in posted.text


async def test_revoking_the_key_ends_its_sessions(app, client: httpx.AsyncClient, env_a: Env) -> None:  # noqa: ANN001
    await sign_in(client, env_a.key)
    async with make_sessionmaker(app.state.engine)() as session:
        await env_store.revoke_api_key(session=session, id_or_prefix=env_a.key_id)
        await session.commit()
    assert (await client.get("/")).status_code == 303


async def test_a_forged_cookie_is_no_session(client: httpx.AsyncClient, env_a: Env) -> None:
    client.cookies.set(SESSION_COOKIE, "eyJ4IjoxfQ.forged.sig")
    assert (await client.get("/")).status_code == 303


async def test_read_only_keys_are_marked_and_pages_answer_with_security_headers(
    app,
    client: httpx.AsyncClient,
    env_a: Env,  # noqa: ANN001
) -> None:
    key = await add_key(app, env_a, ["evaluation:read"])
    await sign_in(client, key)
    home = await client.get("/")
    assert "read-only" in home.text
    csp = home.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert home.headers["x-frame-options"] == "DENY"
    assert home.headers["x-content-type-options"] == "nosniff"
    css = await client.get("/static/app.css")
    assert css.status_code == 200 and css.headers["x-frame-options"] == "DENY"


async def test_a_key_without_evaluation_scope_is_told_so(app, client: httpx.AsyncClient, env_a: Env) -> None:  # noqa: ANN001
    key = await add_key(app, env_a, ["dataset:read"])
    page = await client.get("/login")
    await client.post("/login", data={"api_key": key, "csrf_token": form_token(page.text)})
    answer = await client.get("/")
    assert answer.status_code == 403 and "evaluation:read" in answer.text
    assert answer.headers["content-type"].startswith("text/html")
