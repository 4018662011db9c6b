"""`assay.Client` against a real server: every resource, pagination, error mapping, and `run(wait=True)`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

import assay
from assay.client import Page, Task
from tests.client.conftest import JUDGE_MODEL, LiveServer, instance_config
from tests.conftest import Env


def test_datasets_crud_and_soft_delete(client: assay.Client) -> None:
    ds = client.datasets.create("golden", description="the good ones", metadata={"v": 1})
    assert isinstance(ds, assay.client.Dataset) and ds.name == "golden" and ds.metadata == {"v": 1}
    assert isinstance(ds.created_at, datetime) and ds.deleted is False
    assert client.datasets.get(ds.id) == ds
    updated = client.datasets.update(ds.id, description=None, name="golden-2")
    assert updated.name == "golden-2" and updated.description is None and updated.metadata == {"v": 1}
    page = client.datasets.list(search="golden")
    assert isinstance(page, Page) and page.count == 1 and page.results[0].id == ds.id
    deleted = client.datasets.delete(ds.id)
    assert deleted.deleted is True
    with pytest.raises(assay.NotFoundError):
        client.datasets.get(ds.id)
    assert client.datasets.update(ds.id, deleted=False).deleted is False


def test_dataset_items(client: assay.Client) -> None:
    ds = client.datasets.create("items")
    item = client.dataset_items.create(ds.id, input={"q": "hi"}, output="hello", ref_trace_id="t-1")
    assert item.dataset == ds.id and item.input == {"q": "hi"} and item.output == "hello"
    assert client.dataset_items.get(item.id).ref_trace_id == "t-1"
    assert client.dataset_items.update(item.id, output="hey").output == "hey"
    assert [i.id for i in client.dataset_items.iter(dataset=ds.id)] == [item.id]
    assert client.dataset_items.delete(item.id).deleted is True
    assert client.dataset_items.list(dataset=ds.id).count == 0


def test_pagination_follows_next(client: assay.Client) -> None:
    made = [client.datasets.create(f"ds-{i}").id for i in range(7)]
    first = client.datasets.list(limit=3)
    assert first.count == 7 and len(first.results) == 3 and first.next and first.previous is None
    second = client.datasets.list(limit=3, offset=3)
    assert second.previous is not None
    seen = [d.id for d in client.datasets.iter(page_size=3)]
    assert sorted(seen) == sorted(made) and len(seen) == 7
    ordered = [d.id for d in client.datasets.iter(page_size=2, order_by=["created_at"])]
    assert ordered == made
    assert [d.id for d in client.datasets.iter(ids=made[:2], page_size=1)] == list(reversed(made[:2]))


def test_evaluations_and_test_hog(client: assay.Client) -> None:
    ev = client.evaluations.create(
        "polite",
        "llm_judge",
        {"prompt": "Is it polite?"},
        model_configuration={"provider": "openai", "model": "gpt-4o-mini"},
    )
    assert ev.evaluation_type == "llm_judge" and ev.enabled is False
    assert ev.model_configuration is not None and ev.model_configuration.model == "gpt-4o-mini"
    ev = client.evaluations.update(ev.id, enabled=True, description="checks tone")
    assert ev.enabled and ev.description == "checks tone"
    assert [e.id for e in client.evaluations.iter(enabled=True)] == [ev.id]
    assert client.evaluations.list(enabled=False).count == 0
    assert client.evaluations.delete(ev.id).deleted is True
    with pytest.raises(assay.NotFoundError):
        client.evaluations.get(ev.id)

    answer = client.evaluations.test_hog("return true")
    assert answer.results == [] and answer.message
    client.events.capture(
        "$ai_generation", "user-1", properties={"$ai_input": "hi", "$ai_output_choices": "hello", "$ai_trace_id": "tr"}
    )
    answer = client.evaluations.test_hog("return true", sample_count=1)
    assert len(answer.results) == 1 and answer.results[0].result is True
    with pytest.raises(assay.ValidationError) as err:
        client.evaluations.test_hog("return (")
    assert err.value.status_code == 400 and "Compilation error" in err.value.message


def test_events_capture_list_get(client: assay.Client) -> None:
    event_id = uuid.uuid4()
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = client.events.capture("signup", "u-1", properties={"plan": "pro"}, uuid=event_id, timestamp=when)
    assert (result.accepted, result.stored, result.duplicates) == (1, 1, 0)
    again = client.events.capture("signup", "u-1", uuid=event_id, timestamp=when)
    assert again.duplicates == 1 and again.stored == 0
    batch = client.events.capture_batch([{"event": "click", "distinct_id": f"u-{i}"} for i in range(4)])
    assert batch.stored == 4
    got = client.events.get(event_id)
    assert got.uuid == str(event_id) and got.timestamp == when and got.properties["plan"] == "pro"
    assert client.events.list(event="click").count == 4
    assert len(list(client.events.iter(event="click", page_size=3))) == 4
    pro = client.events.list(properties=[{"key": "plan", "value": "pro", "operator": "exact", "type": "event"}])
    assert [e.uuid for e in pro.results] == [str(event_id)]
    bad = client.events.capture_batch([{"event": "", "distinct_id": "x"}])
    assert bad.rejected and bad.stored == 0


def test_evaluation_runs(client: assay.Client, fake) -> None:  # noqa: ANN001
    ev = client.evaluations.create("always", "hog", {"source": "return true"})
    event_id = uuid.uuid4()
    when = datetime.now(UTC)
    client.events.capture(
        "$ai_generation", "u", uuid=event_id, timestamp=when, properties={"$ai_input": "q", "$ai_output_choices": "a"}
    )
    started = client.evaluation_runs.create(ev.id, event_id, when)
    assert started.evaluation.id == ev.id and started.target_event_id == str(event_id)
    run = client.evaluation_runs.get(started.workflow_id)
    assert run.evaluation_id == ev.id and run.status in {"queued", "running", "completed"}
    with pytest.raises(assay.NotFoundError):
        client.evaluation_runs.create(ev.id, uuid.uuid4(), when)
    with pytest.raises(assay.ValidationError) as err:
        client.evaluation_runs.create(ev.id, "not-a-uuid", when)
    assert err.value.attr == "target_event_id"


def test_provider_keys(client: assay.Client) -> None:
    key = client.provider_keys.create("openai", "main", "sk-test-0123456789abcdef", requests_per_minute=60)
    assert key.provider == "openai" and key.api_key_mask and "0123456789" not in key.api_key_mask
    assert client.provider_keys.update(key.id, name="renamed").name == "renamed"
    assert [k.id for k in client.provider_keys.iter(provider="openai")] == [key.id]
    assert client.provider_keys.list(provider="anthropic").count == 0
    assert client.provider_keys.get(key.id).requests_per_minute == 60
    client.provider_keys.delete(key.id)
    with pytest.raises(assay.NotFoundError):
        client.provider_keys.get(key.id)


def test_instances_recipes_suites_test_cases(client: assay.Client, fake) -> None:  # noqa: ANN001
    inst = client.instances.create("bot", "openai_chat", instance_config(fake))
    assert inst.config["api_key"] == "********" and inst.kind == "openai_chat"
    assert client.instances.update(inst.id, name="bot-2").name == "bot-2"
    assert [i.id for i in client.instances.list()] == [inst.id]
    recipe = client.recipes.create(
        "basics", [{"evaluator": {"type": "contains", "value": "refund"}, "weight": 2}], pass_threshold=50
    )
    assert recipe.items[0].weight == 2 and recipe.pass_threshold == 50
    recipe = client.recipes.update(
        recipe.id, items=[assay.client.RecipeItem(evaluator={"type": "contains", "value": "x"})]
    )
    evaluator = recipe.items[0].evaluator
    assert isinstance(evaluator, dict) and evaluator["value"] == "x" and client.recipes.get(recipe.id).name == "basics"
    suite = client.suites.create("refunds", instance_id=inst.id, recipe_id=recipe.id, config={"repetitions": 1})
    assert suite.instance_id == inst.id and suite.recipe_id == recipe.id
    assert client.suites.update(suite.id, description="d").description == "d"
    assert client.suites.get(suite.id).name == "refunds" and [s.id for s in client.suites.list()] == [suite.id]
    case = client.test_cases.add(suite.id, "I want a refund", expected_behavior="helps", tags=["money"])
    other = client.test_cases.add(suite.id, "second", sort_order=1)
    assert [c.id for c in client.test_cases.list(suite.id)] == [case.id, other.id]
    client.test_cases.delete(suite.id, other.id)
    assert [c.id for c in client.test_cases.list(suite.id)] == [case.id]
    client.recipes.delete(recipe.id)
    assert client.recipes.list() == []
    client.suites.delete(suite.id)
    client.instances.delete(inst.id)
    with pytest.raises(assay.NotFoundError):
        client.suites.get(suite.id)
    with pytest.raises(assay.NotFoundError):
        client.instances.get(inst.id)


def test_run_wait_results_override_and_cancel(client: assay.Client, fake) -> None:  # noqa: ANN001
    fake.set_scenario(
        {
            "rules": [
                {
                    "model": JUDGE_MODEL,
                    "target": "any",
                    "contains": "[good]",
                    "json": {"verdict": True, "reasoning": "Good."},
                },
                {
                    "model": JUDGE_MODEL,
                    "target": "any",
                    "contains": "[bad]",
                    "json": {"verdict": False, "reasoning": "Bad."},
                },
            ]
        }
    )
    inst = client.instances.create("bot", "openai_chat", instance_config(fake))
    suite = client.suites.create("judged", instance_id=inst.id)
    client.test_cases.add(suite.id, "say [good] things", expected_behavior="is polite")
    client.test_cases.add(suite.id, "say [bad] things", expected_behavior="is polite", sort_order=1)
    seen: list[Task] = []
    task = client.run(suite.id, poll_interval=0.05, timeout=60, on_progress=seen.append)
    assert task.done and task.status == "completed" and task.progress.completed == 2
    assert seen and seen[-1] == task and len({(t.status, t.progress.completed) for t in seen}) == len(seen)
    assert client.tasks.get(task.task_id).status == "completed"
    assert [t.task_id for t in client.runs.list(suite.id)] == [task.task_id]
    results = client.results.list(suite.id, task_id=task.task_id)
    assert sorted(r.score for r in results) == [0, 100]
    bad = next(r for r in results if r.score == 0)
    changed = client.results.override(suite.id, bad.id, 90, reason="a person says fine")
    assert changed.score == 90 and changed.original_score == 0 and changed.status == "passed"
    assert changed.overrides[0].previous_score == 0 and changed.score_reason == "a person says fine"
    assert {r.id: r.score for r in client.results.list(suite.id)}[bad.id] == 90
    assert client.suites.get(suite.id).status == "completed"

    fake.set_scenario({"latency_ms": 2000})
    queued = client.run(suite.id, wait=False)
    assert queued.status in {"queued", "running"} and not queued.done
    with pytest.raises(assay.RunTimeoutError) as err:
        client.tasks.wait(queued.task_id, poll_interval=0.05, timeout=0.2)
    assert not err.value.task.done
    cancelled = client.tasks.cancel(queued.task_id)
    assert client.tasks.wait(cancelled.task_id, poll_interval=0.05, timeout=30).status == "cancelled"


def test_conversation_case_and_its_transcript(client: assay.Client, fake) -> None:  # noqa: ANN001
    fake.set_scenario({"rules": [{"contains": "my name", "reply": "You are Ada."}]})
    inst = client.instances.create("chatty", "openai_chat", instance_config(fake))
    suite = client.suites.create("conversation", instance_id=inst.id)
    case = client.test_cases.add(
        suite.id, "hi", messages=[{"role": "assistant", "content": "Hello!"}], user_turns=["what is my name?"]
    )
    assert case.user_turns == ["what is my name?"] and case.messages == [{"role": "assistant", "content": "Hello!"}]
    assert case.simulated_user is None and case.tool_mocks is None
    task = client.run(suite.id, poll_interval=0.05, timeout=60)
    (result,) = client.results.list(suite.id, task_id=task.task_id)
    assert result.agent_response == "You are Ada." and [t["assistant"] for t in result.turns] == ["hi", "You are Ada."]
    assert result.transcript is not None and result.transcript["prior_messages"] == 1


def test_errors_map_to_classes(live_server: LiveServer, env: Env, client: assay.Client) -> None:
    with assay.Client(live_server.url, "phx_not_a_key", max_retries=0) as anon:
        with pytest.raises(assay.AuthenticationError) as auth:
            anon.datasets.list()
        assert auth.value.status_code == 401 and auth.value.body["code"] == "authentication_failed"
        with pytest.raises(assay.AuthenticationError):
            anon.suites.list()
    reader = live_server.key(env, ["dataset:read"])
    with assay.Client(live_server.url, reader) as limited:
        assert limited.datasets.list().count == 0
        with pytest.raises(assay.PermissionDeniedError) as denied:
            limited.datasets.create("nope")
        assert denied.value.status_code == 403 and "dataset:write" in denied.value.message
    other = live_server.env("other")
    with assay.Client(live_server.url, env.key, environment_id=other.id) as wrong_env:
        with pytest.raises(assay.PermissionDeniedError):
            wrong_env.datasets.list()
    with assay.Client(live_server.url, env.key, environment_id=env.id) as explicit:
        assert explicit.datasets.list().count == 0
    with pytest.raises(assay.NotFoundError) as missing:
        client.suites.get(uuid.uuid4())
    assert missing.value.status_code == 404
    with pytest.raises(assay.NotFoundError):
        client.datasets.get(uuid.uuid4())
    with pytest.raises(assay.ValidationError) as drf:
        client.datasets.create("")
    assert drf.value.status_code == 400 and drf.value.attr == "name" and drf.value.loc == ("body", "name")
    with pytest.raises(assay.ValidationError) as drf_nested:
        client.evaluations.create(
            "x", "llm_judge", {"prompt": "p"}, model_configuration={"provider": "nope", "model": "m"}
        )
    assert drf_nested.value.attr == "model_configuration__provider"
    with pytest.raises(assay.ValidationError) as fastapi:
        client.test_cases.add(uuid.uuid4(), "")
    err = fastapi.value
    assert err.status_code == 422 and err.loc == ("body", "input_message") and err.attr == "input_message"
    assert err.errors and "input_message" in str(err)
    with pytest.raises(assay.ValidationError) as score:
        client.results.override(uuid.uuid4(), uuid.uuid4(), 101)
    assert score.value.loc == ("body", "score")
    assert isinstance(score.value, assay.APIError) and isinstance(score.value, assay.AssayError)


def test_connection_error(live_server: LiveServer, env: Env) -> None:
    from assay.testing.fake_llm import free_port

    with assay.Client(f"http://127.0.0.1:{free_port()}", env.key, max_retries=1) as dead:
        dead._sleep = lambda s: None  # type: ignore[method-assign]
        with pytest.raises(assay.APIConnectionError):
            dead.suites.list()
    with assay.Client(live_server.url, env.key) as alive:
        assert alive.health()
