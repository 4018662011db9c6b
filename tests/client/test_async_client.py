"""`assay.AsyncClient` against a real server: each resource, async pagination, errors, `run(wait=True)`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

import assay
from assay.client import Task
from tests.client.conftest import JUDGE_MODEL, LiveServer, instance_config
from tests.conftest import Env


async def test_analytics_resources(aclient: assay.AsyncClient) -> None:
    ds = await aclient.datasets.create("a")
    assert (await aclient.datasets.get(ds.id)).name == "a"
    assert (await aclient.datasets.update(ds.id, name="b")).name == "b"
    item = await aclient.dataset_items.create(ds.id, input="q")
    assert (await aclient.dataset_items.update(item.id, output="o")).output == "o"
    assert [i.id async for i in aclient.dataset_items.iter(dataset=ds.id)] == [item.id]
    assert (await aclient.dataset_items.delete(item.id)).deleted
    assert (await aclient.datasets.delete(ds.id)).deleted
    assert (await aclient.datasets.list()).count == 0

    ev = await aclient.evaluations.create("hogged", "hog", {"source": "return true"}, enabled=True)
    assert (await aclient.evaluations.get(ev.id)).enabled
    assert [e.id async for e in aclient.evaluations.iter()] == [ev.id]
    assert (await aclient.evaluations.update(ev.id, enabled=False)).enabled is False
    event_id = uuid.uuid4()
    when = datetime.now(UTC)
    stored = await aclient.events.capture(
        "$ai_generation", "u", uuid=event_id, timestamp=when, properties={"$ai_input": "q", "$ai_output_choices": "a"}
    )
    assert stored.stored == 1
    assert (await aclient.events.get(event_id)).distinct_id == "u"
    assert (await aclient.events.capture_batch([{"event": "x", "distinct_id": "d"}])).stored == 1
    assert (await aclient.events.list(event="x")).count == 1
    hog = await aclient.evaluations.test_hog("return false", sample_count=1)
    assert [r.result for r in hog.results] == [False]
    started = await aclient.evaluation_runs.create(ev.id, event_id, when)
    assert (await aclient.evaluation_runs.get(started.workflow_id)).workflow_id == started.workflow_id
    assert (await aclient.evaluations.delete(ev.id)).deleted

    key = await aclient.provider_keys.create("anthropic", "k", "sk-ant-0123456789")
    assert (await aclient.provider_keys.get(key.id)).provider == "anthropic"
    assert (await aclient.provider_keys.update(key.id, tokens_per_minute=1000)).tokens_per_minute == 1000
    assert [k.id async for k in aclient.provider_keys.iter()] == [key.id]
    assert (await aclient.provider_keys.list()).count == 1
    await aclient.provider_keys.delete(key.id)
    assert (await aclient.provider_keys.list()).count == 0


async def test_async_pagination(aclient: assay.AsyncClient) -> None:
    made = [(await aclient.datasets.create(f"p{i}")).id for i in range(5)]
    assert [d.id async for d in aclient.datasets.iter(page_size=2, order_by=["created_at"])] == made
    events = [{"event": "page", "distinct_id": str(i)} for i in range(5)]
    await aclient.events.capture_batch(events)
    assert len([e async for e in aclient.events.iter(event="page", page_size=2)]) == 5


async def test_agent_resources_and_run(aclient: assay.AsyncClient, fake) -> None:  # noqa: ANN001
    fake.set_scenario(
        {
            "rules": [
                {
                    "model": JUDGE_MODEL,
                    "target": "any",
                    "contains": "[good]",
                    "json": {"verdict": True, "reasoning": "Good."},
                },
            ]
        }
    )
    inst = await aclient.instances.create("bot", "openai_chat", instance_config(fake))
    assert (await aclient.instances.get(inst.id)).name == "bot"
    assert (
        await aclient.instances.update(inst.id, config=instance_config(fake, system_prompt="Be brief."))
    ).id == inst.id
    assert [i.id for i in await aclient.instances.list()] == [inst.id]
    recipe = await aclient.recipes.create("r", [{"evaluator": {"type": "contains", "value": "good"}}])
    assert (await aclient.recipes.get(recipe.id)).pass_threshold == 70
    assert (await aclient.recipes.update(recipe.id, pass_threshold=60)).pass_threshold == 60
    assert len(await aclient.recipes.list()) == 1
    suite = await aclient.suites.create("s", instance_id=inst.id, recipe_id=recipe.id)
    assert (await aclient.suites.update(suite.id, name="s2")).name == "s2"
    assert [s.id for s in await aclient.suites.list()] == [suite.id]
    await aclient.test_cases.add(suite.id, "be [good]")
    tmp = await aclient.test_cases.add(suite.id, "temporary")
    await aclient.test_cases.delete(suite.id, tmp.id)
    assert len(await aclient.test_cases.list(suite.id)) == 1

    seen: list[Task] = []

    async def progress(task: Task) -> None:
        seen.append(task)

    task = await aclient.run(suite.id, poll_interval=0.05, timeout=60, on_progress=progress)
    assert task.status == "completed" and seen[-1] == task
    [result] = await aclient.results.list(suite.id)
    assert result.score == 100 and result.task_id == task.task_id
    changed = await aclient.results.override(suite.id, result.id, 10)
    assert changed.status == "failed" and changed.original_score == 100
    assert (await aclient.tasks.get(task.task_id)).done
    assert len(await aclient.runs.list(suite.id)) == 1
    queued = await aclient.run(suite.id, wait=False)
    await aclient.tasks.cancel(queued.task_id)
    assert (await aclient.tasks.wait(queued.task_id, poll_interval=0.05, timeout=30)).done
    await aclient.suites.delete(suite.id)
    await aclient.recipes.delete(recipe.id)
    await aclient.instances.delete(inst.id)
    assert (await aclient.suites.list()) == []


async def test_async_errors(live_server: LiveServer, env: Env, aclient: assay.AsyncClient) -> None:
    async with assay.AsyncClient(live_server.url, "bad-key") as anon:
        with pytest.raises(assay.AuthenticationError):
            await anon.instances.list()
    reader = live_server.key(env, ["evaluation:read"])
    async with assay.AsyncClient(live_server.url, reader) as limited:
        with pytest.raises(assay.PermissionDeniedError):
            await limited.suites.create("no")
    with pytest.raises(assay.NotFoundError):
        await aclient.tasks.get(uuid.uuid4())
    with pytest.raises(assay.ValidationError) as err:
        await aclient.instances.create("x", "openai_chat", {})
    assert err.value.status_code == 422 and err.value.loc and err.value.loc[0] == "body"
    with pytest.raises(assay.ValidationError) as drf:
        await aclient.dataset_items.create(uuid.uuid4())
    assert drf.value.status_code == 400 and drf.value.attr == "dataset" and drf.value.code == "does_not_exist"
