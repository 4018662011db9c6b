"""The editor's judge playground: a draft `llm_judge` prompt runs on one event as it would online, through the
server's judge or a saved evaluation's provider key (the fake LLM server), and nothing is saved."""

from __future__ import annotations

import uuid

from tests.conftest import make_env
from tests.online.conftest import JUDGE_MODEL, create_evaluation, evaluation_events, generation_event, runs, send
from tests.web.conftest import sign_in


async def test_the_draft_judges_one_event_and_saves_nothing(http, env, running_app, fake) -> None:  # noqa: ANN001
    fake.set_scenario({"rules": [{"json": {"verdict": False, "reasoning": "The sum is wrong."}}]})
    target = generation_event("user-3", **{"$ai_output_choices": [{"role": "assistant", "content": "5"}]})
    await send(http, env, [target])
    token = await sign_in(http, env.key)
    editor = await http.get("/evaluations/new?type=llm_judge")
    assert f'<option value="{target["uuid"]}">' in editor.text and 'id="judge-playground"' in editor.text
    prompt = f"Is the arithmetic right? ({uuid.uuid4().hex[:6]})"  # judge answers are cached by content
    answer = await http.post(
        "/evaluations/judge-playground",
        json={"prompt": prompt, "event_uuid": target["uuid"]},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()["result"]
    assert result["status"] == "completed" and result["verdict"] is False
    assert result["reasoning"] == "The sum is wrong." and result["model"] == JUDGE_MODEL
    assert result["output_preview"] == "assistant: 5" and result["input_tokens"] > 0
    asked = [r for r in fake.requests() if r.get("path", "").endswith("/chat/completions")]
    assert asked and prompt in str(asked[-1])
    assert await runs(running_app) == [] and await evaluation_events(http, env) == []


async def test_a_saved_evaluations_provider_key_is_used(http, env, running_app, fake) -> None:  # noqa: ANN001
    model = f"keyed-judge-{uuid.uuid4().hex[:6]}"
    fake.set_scenario({"rules": [{"json": {"verdict": True, "reasoning": "Fine."}}]})
    key = await http.post(
        f"{env.api}/llm_provider_keys",
        json={"provider": "openai", "name": "local", "base_url": fake.base_url},
        headers=env.headers,
    )
    assert key.status_code == 201, key.text
    evaluation = await create_evaluation(
        http,
        env,
        name="keyed",
        evaluation_type="llm_judge",
        enabled=False,
        evaluation_config={"prompt": "Is it fine?"},
        model_configuration={"provider": "openai", "model": model, "provider_key_id": key.json()["id"]},
    )
    target = generation_event("user-4")
    await send(http, env, [target])
    token = await sign_in(http, env.key)
    body = {"prompt": "Is it fine, really?", "event_uuid": target["uuid"], "provider": "openai", "model": model}
    answer = await http.post(
        "/evaluations/judge-playground",
        json={**body, "evaluation_id": evaluation["id"]},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["verdict"] is True and answer.json()["result"]["model"] == model
    assert [r["api_key"] for r in fake.requests() if r.get("model") == model] == ["not-needed"]


async def test_bad_drafts_and_foreign_events_are_refused(http, env, running_app) -> None:  # noqa: ANN001
    other = await make_env(running_app, "other-env")
    foreign = generation_event("user-5")
    await send(http, other, [foreign])
    token = await sign_in(http, env.key)
    headers = {"X-CSRF-Token": token}
    url = "/evaluations/judge-playground"
    missing = await http.post(url, json={"prompt": "Good?", "event_uuid": foreign["uuid"]}, headers=headers)
    assert missing.status_code == 404
    blank = await http.post(url, json={"prompt": "  ", "event_uuid": foreign["uuid"]}, headers=headers)
    assert blank.status_code == 400 and "blank" in blank.json()["error"]
    unknown = await http.post(
        url, json={"prompt": "Good?", "event_uuid": foreign["uuid"], "provider": "nope", "model": "m"}, headers=headers
    )
    assert unknown.status_code == 400
    no_token = await http.post(url, json={"prompt": "Good?", "event_uuid": foreign["uuid"]})
    assert no_token.status_code == 403
    not_a_uuid = await http.post(url, json={"prompt": "Good?", "event_uuid": "x"}, headers=headers)
    assert not_a_uuid.status_code == 422
