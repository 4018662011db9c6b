"""Online llm_judge evaluations on a local llama.cpp-style server reached through a provider key without auth."""

from __future__ import annotations

import uuid

from tests.online.conftest import create_evaluation, evaluation_events, generation_event, send, settle


async def test_online_judge_on_llama_cpp_with_a_keyless_key(http, env, running_app, fake) -> None:
    model = f"local-judge-{uuid.uuid4().hex[:6]}"
    fake.set_scenario({"flavor": "llama_cpp", "rules": [{"json": {"verdict": True, "reasoning": "Correct."}}]})
    r = await http.post(
        f"{env.api}/llm_provider_keys",
        json={"provider": "openai", "name": "llama", "base_url": fake.base_url},
        headers=env.headers,
    )
    assert r.status_code == 201 and r.json()["api_key_mask"] is None, r.text
    key_id = r.json()["id"]
    await create_evaluation(
        http,
        env,
        name="local judge",
        evaluation_type="llm_judge",
        evaluation_config={"prompt": "Is it correct?"},
        model_configuration={"provider": "openai", "model": model, "provider_key_id": key_id},
    )
    # different answers: identical events would share one cached judgement
    answers = [{"$ai_output_choices": [{"role": "assistant", "content": text}]} for text in ("4", "four")]
    await send(http, env, [generation_event(**answers[0]), generation_event("user-2", **answers[1])])
    finished = await settle(running_app, expected_runs=2)
    assert [run.status for run in finished] == ["completed", "completed"], [(r.status, r.error) for r in finished]
    events = await evaluation_events(http, env)
    assert len(events) == 2
    assert all(e["properties"]["$ai_evaluation_result"] is True for e in events)
    assert {e["properties"]["$ai_evaluation_key_id"] for e in events} == {key_id}
    judged = [e for e in fake.requests() if e["model"] == model]
    assert {(e["status"], e["response_format"]["type"]) for e in judged} == {(500, "json_schema"), (200, "json_object")}
    assert sum(e["status"] == 200 for e in judged) == 2 and len(judged) <= 4  # each 500 once, never retried
    assert all(e["max_tokens"] == running_app.state.settings.judge_max_tokens for e in judged)
    assert all(e["api_key"] == "not-needed" for e in judged)
