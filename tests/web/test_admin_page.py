"""The administration page over HTTP: project token rotation, API keys (shown once, exact scopes, revoke, who may
manage them), provider keys (as the API stores and masks them), CSRF, and other environments' objects."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from markupsafe import escape

from assay.domain.scopes import ALL_SCOPES
from tests.conftest import Env, add_key
from tests.web.conftest import sign_in

NEW_KEY = re.compile(r'id="new-key-value">(asy_[^<]+)<')
TOKEN = re.compile(r'id="project-token">([^<]+)<')


@asynccontextmanager
async def browser_like(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of its own (its own cookies), as a second person's browser."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


def ai_event() -> dict[str, Any]:
    return {
        "event": "$ai_generation",
        "distinct_id": "user-1",
        "uuid": str(uuid.uuid4()),
        "properties": {"$ai_trace_id": "t-1", "$ai_model": "gpt-4o-mini", "$ai_input": "2+2?", "$ai_output": "4"},
    }


async def capture(client: httpx.AsyncClient, token: str) -> int:
    answer = await client.post("/batch/", json={"api_key": token, "batch": [ai_event()]})
    return answer.status_code


async def key_ids(client: httpx.AsyncClient, env: Env) -> set[str]:
    page = await client.get("/admin")
    return set(re.findall(r'data-key-id="([^"]+)"', page.text))


async def test_rotating_the_token_in_the_ui_refuses_the_old_one_at_capture(
    client: httpx.AsyncClient, env_a: Env, env_b: Env
) -> None:
    csrf = await sign_in(client, env_a.key)
    page = await client.get("/admin")
    assert page.status_code == 200
    assert TOKEN.search(page.text).group(1) == env_a.project_token  # type: ignore[union-attr]
    assert env_a.id in page.text and env_a.name in page.text
    assert await capture(client, env_a.project_token) == 200

    answer = await client.post("/admin/token/rotate", data={"csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/admin?notice=rotated")
    page = await client.get(answer.headers["location"])
    new = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    assert new.startswith("phc_") and new != env_a.project_token
    assert await capture(client, env_a.project_token) == 401
    assert await capture(client, new) == 200
    assert await capture(client, env_b.project_token) == 200  # another environment's token is untouched


async def test_rotating_needs_event_write_as_the_api(app: Any, client: httpx.AsyncClient, env_a: Env) -> None:
    csrf = await sign_in(client, await add_key(app, env_a, ["evaluation:write", "dataset:write", "event:read"]))
    page = await client.get("/admin")
    assert 'id="rotate-form"' not in page.text and env_a.project_token in page.text
    answer = await client.post("/admin/token/rotate", data={"csrf_token": csrf})
    assert answer.status_code == 403
    api = await client.post(
        f"{env_a.api}/reset_token", headers={"Authorization": f"Bearer {await add_key(app, env_a, ['event:read'])}"}
    )
    assert api.status_code == 403
    assert await capture(client, env_a.project_token) == 200


async def test_a_key_created_in_the_ui_is_shown_once_and_has_exactly_its_scopes(
    client: httpx.AsyncClient, env_a: Env
) -> None:
    csrf = await sign_in(client, env_a.key)
    answer = await client.post(
        "/admin/keys", data={"csrf_token": csrf, "name": "<script>alert(1)</script>", "scope": ["evaluation:read"]}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    key = NEW_KEY.search(answer.text).group(1)  # type: ignore[union-attr]
    assert "<script>alert(1)</script>" not in answer.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text

    bearer = {"Authorization": f"Bearer {key}"}
    assert (await client.get("/v1/evaluations", headers=bearer)).status_code == 200
    assert (await client.post("/v1/evaluations", headers=bearer, json={})).status_code == 403
    assert (await client.get(f"{env_a.api}/datasets", headers=bearer)).status_code == 403
    assert (await client.post(f"{env_a.api}/reset_token", headers=bearer)).status_code == 403

    again = await client.get("/admin")
    assert key not in again.text  # never shown again
    assert key[:10] in again.text  # its prefix is
    new_ids = await key_ids(client, env_a) - {env_a.key_id}
    assert len(new_ids) == 1
    (new_id,) = new_ids

    revoked = await client.post(f"/admin/keys/{new_id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303 and revoked.headers["location"].startswith("/admin?notice=revoked")
    assert (await client.get("/v1/evaluations", headers=bearer)).status_code == 401
    assert (await client.get("/v1/evaluations", headers=env_a.headers)).status_code == 200


async def test_a_key_created_with_all_scopes_works_everywhere(client: httpx.AsyncClient, env_a: Env) -> None:
    csrf = await sign_in(client, env_a.key)
    answer = await client.post("/admin/keys", data={"csrf_token": csrf, "name": "ci", "scope": list(ALL_SCOPES)})
    key = NEW_KEY.search(answer.text).group(1)  # type: ignore[union-attr]
    bearer = {"Authorization": f"Bearer {key}"}
    assert (await client.get(f"{env_a.api}/events", headers=bearer)).status_code == 200
    assert (await client.post(f"{env_a.api}/datasets", headers=bearer, json={"name": "d"})).status_code == 201


async def test_bad_key_forms_answer_422_with_the_form(client: httpx.AsyncClient, env_a: Env) -> None:
    csrf = await sign_in(client, env_a.key)
    no_scope = await client.post("/admin/keys", data={"csrf_token": csrf, "name": "empty"})
    assert no_scope.status_code == 422 and "at least one scope is required" in no_scope.text
    unknown = await client.post("/admin/keys", data={"csrf_token": csrf, "scope": ["admin:write"]})
    assert unknown.status_code == 422 and "unknown scope" in unknown.text
    long_name = await client.post("/admin/keys", data={"csrf_token": csrf, "name": "x" * 201, "scope": ["event:read"]})
    assert long_name.status_code == 422
    assert await key_ids(client, env_a) == {env_a.key_id}


async def test_a_key_without_every_scope_cannot_manage_keys(app: Any, client: httpx.AsyncClient, env_a: Env) -> None:
    partial = [s for s in ALL_SCOPES if s != "event:read"]
    csrf = await sign_in(client, await add_key(app, env_a, partial))
    page = await client.get("/admin")
    assert page.status_code == 200 and 'id="create-key-form"' not in page.text and "/revoke" not in page.text
    before = await key_ids(client, env_a)
    for scopes in (["evaluation:read"], partial, list(ALL_SCOPES)):  # not even a lesser key; never an escalation
        answer = await client.post("/admin/keys", data={"csrf_token": csrf, "name": "x", "scope": scopes})
        assert answer.status_code == 403
        assert NEW_KEY.search(answer.text) is None
    answer = await client.post(f"/admin/keys/{env_a.key_id}/revoke", data={"csrf_token": csrf})
    assert answer.status_code == 403
    assert await key_ids(client, env_a) == before
    assert (await client.get("/v1/evaluations", headers=env_a.headers)).status_code == 200


async def test_revoking_the_key_signed_in_with_signs_out(app: Any, client: httpx.AsyncClient, env_a: Env) -> None:
    key = await add_key(app, env_a, list(ALL_SCOPES))
    csrf = await sign_in(client, key)
    own = (await key_ids(client, env_a)) - {env_a.key_id}
    (own_id,) = own
    answer = await client.post(f"/admin/keys/{own_id}/revoke", data={"csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    after = await client.get("/admin")
    assert after.status_code == 303 and after.headers["location"].startswith("/login")
    assert (await client.get("/v1/evaluations", headers={"Authorization": f"Bearer {key}"})).status_code == 401


async def test_provider_keys_in_the_ui_equal_the_apis(client: httpx.AsyncClient, env_a: Env) -> None:
    csrf = await sign_in(client, env_a.key)
    secret = "sk-test-0123456789abcdef"
    answer = await client.post(
        "/admin/provider-keys",
        data={
            "csrf_token": csrf,
            "provider": "openai",
            "name": "<b>judge</b>",
            "api_key": secret,
            "base_url": "http://127.0.0.1:9/v1/",
        },
    )
    assert answer.status_code == 303
    listed = (await client.get(f"{env_a.api}/llm_provider_keys", headers=env_a.headers)).json()["results"]
    assert len(listed) == 1
    stored = listed[0]
    assert stored["name"] == "<b>judge</b>" and stored["provider"] == "openai"
    assert stored["base_url"] == "http://127.0.0.1:9/v1" and stored["api_key_mask"] == "sk-…cdef"

    via_api = await client.post(
        f"{env_a.api}/llm_provider_keys",
        headers=env_a.headers,
        json={"provider": "anthropic", "name": "claude", "api_key": "sk-ant-abcdefghijklmnop9876"},
    )
    assert via_api.status_code == 201
    page = await client.get("/admin")
    assert secret not in page.text and "sk-ant-abcdefghijklmnop9876" not in page.text
    assert "&lt;b&gt;judge&lt;/b&gt;" in page.text and "<b>judge</b>" not in page.text
    masks = re.findall(r'<code class="mask">([^<]+)</code>', page.text)
    assert sorted(masks) == sorted([stored["api_key_mask"], via_api.json()["api_key_mask"]])

    deleted = await client.post(f"/admin/provider-keys/{stored['id']}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 303
    gone = await client.get(f"{env_a.api}/llm_provider_keys/{stored['id']}", headers=env_a.headers)
    assert gone.status_code == 404
    assert [
        k["id"] for k in (await client.get(f"{env_a.api}/llm_provider_keys", headers=env_a.headers)).json()["results"]
    ] == [via_api.json()["id"]]


async def test_provider_key_validation_is_the_apis(client: httpx.AsyncClient, env_a: Env) -> None:
    csrf = await sign_in(client, env_a.key)
    cases = [
        ({"provider": "azure_openai", "name": "az", "api_key": "k" * 20, "base_url": ""}, "base_url"),
        ({"provider": "openai", "name": "none", "api_key": "", "base_url": ""}, "api_key"),
        ({"provider": "openai", "name": "url", "api_key": "k" * 20, "base_url": "ftp://x"}, "base_url"),
        ({"provider": "openai", "name": "  ", "api_key": "k" * 20, "base_url": ""}, "name"),
        ({"provider": "nope", "name": "p", "api_key": "k" * 20, "base_url": ""}, "provider"),
    ]
    for form, attr in cases:
        ui = await client.post("/admin/provider-keys", data={"csrf_token": csrf, **form})
        assert ui.status_code == 422, form
        body = {k: v for k, v in form.items() if v != ""}
        api = await client.post(f"{env_a.api}/llm_provider_keys", headers=env_a.headers, json=body)
        assert api.status_code == 400 and api.json()["attr"] == attr, (form, api.text)
        if attr in ("base_url", "api_key") and form["provider"] != "nope" and form["base_url"] != "ftp://x":
            assert str(escape(api.json()["detail"])) in ui.text  # the same message, from the same rule
    listed = await client.get(f"{env_a.api}/llm_provider_keys", headers=env_a.headers)
    assert listed.json()["count"] == 0


async def test_provider_keys_follow_the_evaluation_scopes(app: Any, client: httpx.AsyncClient, env_a: Env) -> None:
    csrf = await sign_in(client, await add_key(app, env_a, ["evaluation:read"]))
    page = await client.get("/admin")
    assert 'id="provider-key-form"' not in page.text and "No provider keys yet." in page.text
    answer = await client.post(
        "/admin/provider-keys", data={"csrf_token": csrf, "provider": "openai", "name": "n", "api_key": "k" * 20}
    )
    assert answer.status_code == 403
    async with browser_like(app) as other:
        await sign_in(other, await add_key(app, env_a, ["event:write"]), next_url="/admin")
        page = await other.get("/admin")
        assert page.status_code == 200 and "need the <code>evaluation:read</code> scope" in page.text


async def test_writes_without_the_csrf_token_are_refused(client: httpx.AsyncClient, env_a: Env) -> None:
    await sign_in(client, env_a.key)
    created = await client.post(
        f"{env_a.api}/llm_provider_keys",
        headers=env_a.headers,
        json={"provider": "openai", "name": "n", "api_key": "k" * 20},
    )
    for path, data in [
        ("/admin/token/rotate", {}),
        ("/admin/keys", {"name": "x", "scope": ["event:read"]}),
        (f"/admin/keys/{env_a.key_id}/revoke", {}),
        ("/admin/provider-keys", {"provider": "openai", "name": "n", "api_key": "k" * 20}),
        (f"/admin/provider-keys/{created.json()['id']}/delete", {}),
    ]:
        for token in (None, "wrong"):
            answer = await client.post(path, data={**data, **({"csrf_token": token} if token else {})})
            assert answer.status_code == 403 and "CSRF" in answer.text, path
    assert await capture(client, env_a.project_token) == 200
    assert await key_ids(client, env_a) == {env_a.key_id}
    listed = await client.get(f"{env_a.api}/llm_provider_keys", headers=env_a.headers)
    assert listed.json()["count"] == 1


async def test_another_environments_keys_are_not_found(
    app: Any, client: httpx.AsyncClient, env_a: Env, env_b: Env
) -> None:
    csrf = await sign_in(client, env_a.key)
    theirs = await client.post(
        f"{env_b.api}/llm_provider_keys",
        headers=env_b.headers,
        json={"provider": "openai", "name": "b", "api_key": "k" * 20},
    )
    assert theirs.status_code == 201
    page = await client.get("/admin")
    assert (
        env_b.key_id not in page.text and theirs.json()["id"] not in page.text and env_b.project_token not in page.text
    )
    assert (await client.post(f"/admin/keys/{env_b.key_id}/revoke", data={"csrf_token": csrf})).status_code == 404
    assert (await client.post(f"/admin/keys/{uuid.uuid4()}/revoke", data={"csrf_token": csrf})).status_code == 404
    gone = await client.post(f"/admin/provider-keys/{theirs.json()['id']}/delete", data={"csrf_token": csrf})
    assert gone.status_code == 404
    assert (await client.get("/v1/evaluations", headers=env_b.headers)).status_code == 200
    still = await client.get(f"{env_b.api}/llm_provider_keys/{theirs.json()['id']}", headers=env_b.headers)
    assert still.status_code == 200
