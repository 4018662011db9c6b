"""People: invites, accounts, roles per environment, email sign-in slowed after failures, and who overrides record."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import httpx
import pytest

from assay.api.app import create_app
from assay.services import invites as invite_service
from assay.services.users import Actor
from assay.settings import Settings
from assay.storage.db import make_sessionmaker
from tests.conftest import Env
from tests.web.conftest import form_token
from tests.web.people_data import (
    PASSWORD,
    cheap_hashing_settings,
    invite_token,
    make_person,
    person_sign_in,
    signed_in_token,
)
from tests.web.run_data import seed_run


@pytest.fixture
def settings(database_url: str) -> Settings:
    return cheap_hashing_settings(database_url)


def client_for(app) -> httpx.AsyncClient:  # noqa: ANN001
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def api_results(client: httpx.AsyncClient, env: Env, suite_id: uuid.UUID, run_id: uuid.UUID) -> list[dict]:
    answer = await client.get(
        f"/v1/evaluations/{suite_id}/results", params={"task_id": str(run_id)}, headers=env.headers
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def accept(app, token: str, name: str, password: str) -> httpx.AsyncClient:  # noqa: ANN001
    """A new browser that opens the invite link and joins; signed in afterwards."""
    person = client_for(app)
    page = await person.get(f"/invite/{token}")
    assert page.status_code == 200, page.text
    joined = await person.post(
        f"/invite/{token}", data={"name": name, "password": password, "csrf_token": form_token(page.text)}
    )
    assert joined.status_code == 303, joined.text
    return person


async def test_invited_people_sign_up_and_their_roles_decide(app, client, env_a: Env) -> None:  # noqa: ANN001
    await make_person(app, env_a.id, "Admin@Example.com", "Ada Admin", "admin")
    run = await seed_run(app.state.sessionmaker, uuid.UUID(env_a.id), 4)
    csrf = await signed_in_token(client, "admin@example.com")

    invited = await client.post(
        "/admin/people/invite", data={"csrf_token": csrf, "email": "rita@example.com", "role": "reviewer"}
    )
    assert invited.status_code == 200 and invited.headers["cache-control"] == "no-store"
    token = invite_token(invited.text)
    viewer_link = invite_token(
        (
            await client.post(
                "/admin/people/invite", data={"csrf_token": csrf, "email": "vic@example.com", "role": "viewer"}
            )
        ).text
    )

    rita = await accept(app, token, "Rita <Reviewer>", "rita's long password")
    again = await client_for(app).get(f"/invite/{token}")
    assert again.status_code == 410 and "used already" in again.text
    home = await rita.get("/")
    assert "Rita &lt;Reviewer&gt;" in home.text and ">reviewer<" in home.text
    rita_csrf = form_token(home.text)

    result_id = (await api_results(client, env_a, run.suite_id, run.run_id))[0]["id"]
    saved = await rita.post(
        f"/runs/{run.run_id}/review/{result_id}", data={"csrf_token": rita_csrf, "score": "90", "reason": "fine"}
    )
    assert saved.status_code == 303, saved.text
    by_api = {r["id"]: r for r in await api_results(client, env_a, run.suite_id, run.run_id)}
    assert by_api[result_id]["overrides"][-1]["by"] == "Rita <Reviewer> <rita@example.com>"
    # A reviewer reviews but manages nothing: no keys, no people, no runs.
    refused_key = await rita.post(
        "/admin/keys", data={"csrf_token": rita_csrf, "name": "mine", "scope": "dataset:read"}
    )
    assert refused_key.status_code == 403
    refused_invite = await rita.post(
        "/admin/people/invite", data={"csrf_token": rita_csrf, "email": "x@example.com", "role": "admin"}
    )
    assert refused_invite.status_code == 403
    assert (await rita.post(f"/suites/{run.suite_id}/run", data={"csrf_token": rita_csrf})).status_code == 403

    vic = await accept(app, viewer_link, "Vic Viewer", "vic's long password")
    vic_csrf = form_token((await vic.get(f"/runs/{run.run_id}/review")).text)
    denied = await vic.post(f"/runs/{run.run_id}/review/{result_id}", data={"csrf_token": vic_csrf, "score": "0"})
    assert denied.status_code == 403
    detail = await vic.post(
        f"/runs/{run.run_id}/results/{result_id}/override", data={"csrf_token": vic_csrf, "score": "0"}
    )
    assert detail.status_code == 403

    # The admin's key records its owner; removing Rita revokes it... her own keys, and ends her session.
    created = await client.post("/admin/keys", data={"csrf_token": csrf, "name": "ci", "scope": "dataset:read"})
    assert created.status_code == 200 and "Ada Admin" in created.text
    people = (await client.get("/admin")).text
    rita_id = people.split('data-user-id="')[1:]
    rita_row = next(chunk.split('"')[0] for chunk in rita_id if "rita@example.com" in chunk.split("</tr>")[0])
    promoted = await client.post(f"/admin/people/{rita_row}/role", data={"csrf_token": csrf, "role": "admin"})
    assert promoted.status_code == 303
    assert (await rita.get("/")).text.count(">admin<") == 1
    removed = await client.post(f"/admin/people/{rita_row}/remove", data={"csrf_token": csrf})
    assert removed.status_code == 303
    assert (await rita.get("/")).status_code == 303  # her session ended with her role

    # Rita signs in again: the account exists, but has no environment left.
    assert (await person_sign_in(client_for(app), "rita@example.com", "rita's long password")).status_code == 403
    # Invited back, she joins with the password of her account (a wrong one counts as a failed sign-in).
    back = invite_token(
        (
            await client.post(
                "/admin/people/invite", data={"csrf_token": csrf, "email": "rita@example.com", "role": "viewer"}
            )
        ).text
    )
    async with client_for(app) as returning:
        page = await returning.get(f"/invite/{back}")
        assert "has an account already" in page.text
        wrong = await returning.post(
            f"/invite/{back}", data={"password": "not her password", "csrf_token": form_token(page.text)}
        )
        assert wrong.status_code == 401
        page = await returning.get(f"/invite/{back}")
        joined = await returning.post(
            f"/invite/{back}", data={"password": "rita's long password", "csrf_token": form_token(page.text)}
        )
        assert joined.status_code == 303
        assert ">viewer<" in (await returning.get("/")).text
    for other in (rita, vic):
        await other.aclose()


async def test_expired_and_unknown_invites_are_refused(app, client, env_a: Env) -> None:  # noqa: ANN001
    admin_id = await make_person(app, env_a.id, "admin@example.com", "Ada", "admin")
    actor = Actor(user_id=admin_id, environment_id=uuid.UUID(env_a.id), role="admin")
    async with make_sessionmaker(app.state.engine)() as session:
        expired = await invite_service.create_invite(
            session=session, actor=actor, email="late@example.com", role="viewer", lifetime=timedelta(seconds=-1)
        )
    page = await client.get(f"/invite/{expired.token}")
    assert page.status_code == 410 and "expired" in page.text
    posted = await client.post(f"/invite/{expired.token}", data={"name": "Late", "password": "x" * 12})
    assert posted.status_code == 403  # no form token: refused before the invite is even looked at
    assert (await client.get("/invite/not-a-token")).status_code == 404


async def test_wrong_passwords_lock_the_account_across_processes_and_are_logged(
    app,
    client,
    env_a: Env,
    settings,
    caplog,  # noqa: ANN001
) -> None:
    await make_person(app, env_a.id, "ada@example.com", "Ada", "reviewer")
    caplog.set_level(logging.WARNING, logger="assay.sign_in")
    for _ in range(5):
        wrong = await person_sign_in(client, "ada@example.com", "not the password")
        assert wrong.status_code == 401 and "do not match" in wrong.text
    locked = await person_sign_in(client, "ada@example.com", PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    # Another process on the same database sees the lock.
    other = create_app(settings)
    try:
        async with client_for(other) as second:
            assert (await person_sign_in(second, "ADA@example.com", PASSWORD)).status_code == 429
    finally:
        await other.state.engine.dispose()
    failures = [r.getMessage() for r in caplog.records if "sign-in failed" in r.getMessage()]
    assert len(failures) == 5 and all("email=ada@example.com" in m and "ip=127.0.0.1" in m for m in failures)
    assert any("locked" in r.getMessage() for r in caplog.records)
    assert not any("not the password" in r.getMessage() or PASSWORD in r.getMessage() for r in caplog.records)
    # API-key sign-in is untouched by the lock.
    page = await client.get("/login")
    answer = await client.post("/login", data={"api_key": env_a.key, "csrf_token": form_token(page.text)})
    assert answer.status_code == 303


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_person_with_several_environments_switches(app, client, env_a: Env, env_b: Env) -> None:  # noqa: ANN001
    admin_id = await make_person(app, env_a.id, "ada@example.com", "Ada", "admin")
    async with make_sessionmaker(app.state.engine)() as session:
        from assay.storage.users import set_role

        await set_role(session=session, user_id=admin_id, environment_id=uuid.UUID(env_b.id), role="viewer")
        await session.commit()
    answer = await person_sign_in(client, "ada@example.com")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/environments")
    picker = await client.get(answer.headers["location"])
    assert "env-a" in picker.text and "env-b" in picker.text
    switched = await client.post(
        "/environments/switch",
        data={"csrf_token": form_token(picker.text), "environment_id": env_b.id, "next": "/admin"},
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/admin"
    admin = await client.get("/admin")
    assert env_b.project_token in admin.text and ">viewer<" in admin.text
    stranger = await client.post(
        "/environments/switch", data={"csrf_token": form_token(admin.text), "environment_id": str(uuid.uuid4())}
    )
    assert stranger.status_code == 404
