"""Agent-evaluation resources (`/v1/…`): suites, test cases, instances, recipes, runs, tasks, results."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assay.client._arguments import InstanceKind, recipe_items
from assay.client._base import ID, NOT_GIVEN, NotGiven, body, query
from assay.client._errors import RunTimeoutError
from assay.client._models import Instance, Recipe, RecipeItem, Result, RunStarted, Suite, Task, TestCase
from assay.client._polling import AsyncProgressCallback, areport_progress, task_signature

if TYPE_CHECKING:
    from assay.client._async_client import AsyncClient


class _Resource:
    def __init__(self, client: AsyncClient) -> None:
        self._c = client


class Suites(_Resource):
    """`client.suites`: evaluation suites (`/v1/evaluations`): an instance, a recipe and test cases."""

    async def list(self) -> list[Suite]:
        """Every suite of the key's environment."""
        return await self._c._get_list("/v1/evaluations", Suite)

    async def create(
        self,
        name: str,
        *,
        instance_id: ID | None = None,
        recipe_id: ID | None = None,
        description: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> Suite:
        """Create a suite; `config` holds e.g. `repetitions` and `concurrency`."""
        fields = body(
            name=name, instance_id=instance_id, recipe_id=recipe_id, description=description, config=dict(config or {})
        )
        return await self._c._post("/v1/evaluations", Suite, fields)

    async def get(self, suite_id: ID) -> Suite:
        """One suite (with `status` and `results_summary` of its latest run)."""
        return await self._c._get(f"/v1/evaluations/{suite_id}", Suite)

    async def update(
        self,
        suite_id: ID,
        *,
        name: str | NotGiven = NOT_GIVEN,
        description: str | None | NotGiven = NOT_GIVEN,
        instance_id: ID | None | NotGiven = NOT_GIVEN,
        recipe_id: ID | None | NotGiven = NOT_GIVEN,
        config: Mapping[str, Any] | NotGiven = NOT_GIVEN,
    ) -> Suite:
        """Change the given fields."""
        fields = body(name=name, description=description, instance_id=instance_id, recipe_id=recipe_id, config=config)
        return await self._c._patch(f"/v1/evaluations/{suite_id}", Suite, fields)

    async def delete(self, suite_id: ID) -> None:
        """Delete the suite with its test cases and results."""
        await self._c._delete(f"/v1/evaluations/{suite_id}")


class TestCases(_Resource):
    """`client.test_cases`: the cases of a suite."""

    __test__ = False

    async def list(self, suite_id: ID) -> list[TestCase]:
        """The suite's cases, in `sort_order`."""
        return await self._c._get_list(f"/v1/evaluations/{suite_id}/test-cases", TestCase)

    async def add(
        self,
        suite_id: ID,
        input_message: str,
        *,
        expected_behavior: str | None = None,
        expected_tool_calls: Sequence[Mapping[str, Any]] | None = None,
        sort_order: int = 0,
        tags: Sequence[Any] | None = None,
        messages: Sequence[Mapping[str, Any]] | NotGiven = NOT_GIVEN,
        user_turns: Sequence[str] | NotGiven = NOT_GIVEN,
        simulated_user: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        tool_mocks: Sequence[Mapping[str, Any]] | NotGiven = NOT_GIVEN,
        max_steps: int | NotGiven = NOT_GIVEN,
    ) -> TestCase:
        """Add a case: the message sent to the agent, and what a good answer does.

        A conversation case also gives `messages` (turns before the input), `user_turns` (sent after it) or a
        `simulated_user` (`{goal, persona, max_turns, stop_on}`), and `tool_mocks` (`{tool, arguments?, result}`)
        with `max_steps` for the agent's tool loop."""
        fields = body(
            input_message=input_message,
            expected_behavior=expected_behavior,
            expected_tool_calls=list(expected_tool_calls) if expected_tool_calls is not None else None,
            sort_order=sort_order,
            tags=list(tags or []),
            messages=messages,
            user_turns=user_turns,
            simulated_user=simulated_user,
            tool_mocks=tool_mocks,
            max_steps=max_steps,
        )
        return await self._c._post(f"/v1/evaluations/{suite_id}/test-cases", TestCase, fields)

    async def delete(self, suite_id: ID, case_id: ID) -> None:
        """Remove a case."""
        await self._c._delete(f"/v1/evaluations/{suite_id}/test-cases/{case_id}")


class Instances(_Resource):
    """`client.instances`: agents under test (`openai_chat` endpoints or `http` with templates)."""

    async def list(self) -> list[Instance]:
        """Every instance."""
        return await self._c._get_list("/v1/instances", Instance)

    async def create(self, name: str, kind: InstanceKind, config: Mapping[str, Any]) -> Instance:
        """Create an instance; secrets in `config` are stored encrypted and returned masked."""
        return await self._c._post("/v1/instances", Instance, body(name=name, kind=kind, config=dict(config)))

    async def get(self, instance_id: ID) -> Instance:
        """One instance."""
        return await self._c._get(f"/v1/instances/{instance_id}", Instance)

    async def update(
        self,
        instance_id: ID,
        *,
        name: str | NotGiven = NOT_GIVEN,
        kind: InstanceKind | NotGiven = NOT_GIVEN,
        config: Mapping[str, Any] | NotGiven = NOT_GIVEN,
    ) -> Instance:
        """Change the given fields."""
        return await self._c._patch(f"/v1/instances/{instance_id}", Instance, body(name=name, kind=kind, config=config))

    async def delete(self, instance_id: ID) -> None:
        """Delete the instance (suites using it are left without one)."""
        await self._c._delete(f"/v1/instances/{instance_id}")


class Recipes(_Resource):
    """`client.recipes`: how cases are scored (weighted evaluators and a pass threshold)."""

    async def list(self) -> list[Recipe]:
        """Every recipe."""
        return await self._c._get_list("/v1/recipes", Recipe)

    async def create(
        self,
        name: str,
        items: Sequence[RecipeItem | Mapping[str, Any]],
        *,
        description: str | None = None,
        pass_threshold: float = 70.0,
    ) -> Recipe:
        """Create a recipe from items such as `{"evaluator": {"type": "contains", "value": "x"}, "weight": 2}`."""
        fields = body(name=name, items=recipe_items(items), description=description, pass_threshold=pass_threshold)
        return await self._c._post("/v1/recipes", Recipe, fields)

    async def get(self, recipe_id: ID) -> Recipe:
        """One recipe."""
        return await self._c._get(f"/v1/recipes/{recipe_id}", Recipe)

    async def update(
        self,
        recipe_id: ID,
        *,
        name: str | NotGiven = NOT_GIVEN,
        description: str | None | NotGiven = NOT_GIVEN,
        items: Sequence[RecipeItem | Mapping[str, Any]] | NotGiven = NOT_GIVEN,
        pass_threshold: float | NotGiven = NOT_GIVEN,
    ) -> Recipe:
        """Change the given fields."""
        fields = body(
            name=name,
            description=description,
            pass_threshold=pass_threshold,
            items=recipe_items(items) if not isinstance(items, NotGiven) else NOT_GIVEN,
        )
        return await self._c._patch(f"/v1/recipes/{recipe_id}", Recipe, fields)

    async def delete(self, recipe_id: ID) -> None:
        """Delete the recipe (suites using it fall back to the default scoring)."""
        await self._c._delete(f"/v1/recipes/{recipe_id}")


class Runs(_Resource):
    """`client.runs`: start a suite's run, list its runs."""

    async def start(self, suite_id: ID) -> Task:
        """Snapshot the suite and queue a run; returns its task at once (see `AsyncClient.run` to wait)."""
        started = await self._c._post(f"/v1/evaluations/{suite_id}/run", RunStarted, None)
        return await self._c.tasks.get(started.task_id)

    async def list(self, suite_id: ID) -> list[Task]:
        """The suite's runs, newest first."""
        return await self._c._get_list(f"/v1/evaluations/{suite_id}/runs", Task)


class Tasks(_Resource):
    """`client.tasks`: the state of a run (status, progress, summary), cancel, wait."""

    async def get(self, task_id: ID) -> Task:
        """The task now."""
        return await self._c._get(f"/v1/tasks/{task_id}", Task)

    async def cancel(self, task_id: ID) -> Task:
        """Cancel: a queued task at once, a running one after the cases in flight."""
        return await self._c._post(f"/v1/tasks/{task_id}/cancel", Task, None)

    async def wait(
        self,
        task_id: ID,
        *,
        poll_interval: float = 0.5,
        timeout: float | None = None,
        on_progress: AsyncProgressCallback | None = None,
    ) -> Task:
        """Poll until the task ends; `on_progress(task)` is called on each change. Raises `RunTimeoutError`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: tuple[Any, ...] | None = None
        while True:
            task = await self.get(task_id)
            if task_signature(task) != seen:
                seen = task_signature(task)
                if on_progress is not None:
                    await areport_progress(on_progress, task)
            if task.done:
                return task
            if deadline is not None and time.monotonic() >= deadline:
                raise RunTimeoutError(f"task {task_id} still {task.status} after {timeout}s", task=task)
            pause = poll_interval if deadline is None else min(poll_interval, max(0.0, deadline - time.monotonic()))
            await self._c._sleep(pause)


class Results(_Resource):
    """`client.results`: per-case results of a run, and manual score overrides."""

    async def list(self, suite_id: ID, task_id: ID | None = None) -> list[Result]:
        """Results of the suite's latest run, or of `task_id`."""
        return await self._c._get_list(f"/v1/evaluations/{suite_id}/results", Result, query(task_id=task_id))

    async def override(self, suite_id: ID, result_id: ID, score: float, *, reason: str | None = None) -> Result:
        """Set a result's score (0-100) by hand; the original score and every change are kept."""
        fields = body(score=score, score_reason=reason)
        return await self._c._patch(f"/v1/evaluations/{suite_id}/results/{result_id}", Result, fields)
