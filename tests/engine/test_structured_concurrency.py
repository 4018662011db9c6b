"""A run's workers and its watcher live and die together.

When one worker raises, its siblings are cancelled; when the watcher's database check keeps failing, the
workers are cancelled; either way the run ends `failed` with the error and no task of it is left running.
A shutdown cancellation keeps the finished results and leaves the lease to lapse.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from assay.api.app import create_app
from assay.engine.runs.dispatch import claim_run
from assay.engine.runs.executor import execute_run
from assay.providers import ProviderRegistry
from assay.providers.datatypes import ChatRequest, ChatResult, RetryPolicy
from assay.settings import Settings
from assay.storage import runs as run_store
from assay.storage.run_tables import RunRow
from assay.targets import HttpSpec, get_http_clients
from tests.conftest import Env, make_env
from tests.engine.conftest import create_instance, create_suite

pytestmark = pytest.mark.timeout(90)

QUICK = "answer at once"
HANG = "never answer"
BOOM = "break the registry"


class BreakingRegistry(ProviderRegistry):
    """The real registry, except that some inputs hang until cancelled and one raises a plain error."""

    def __init__(self) -> None:
        super().__init__()
        self.hanging = 0
        self.cancelled = 0
        self.answered = 0

    async def chat(self, endpoint: Any, request: ChatRequest, *, retry: RetryPolicy | None = None) -> ChatResult:
        text = request.messages[-1]["content"]
        if text == HANG:
            self.hanging += 1
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        if text == BOOM:
            while self.hanging < 2 or self.answered < 1:  # fail once a case is done and the others are busy
                await asyncio.sleep(0.01)
            raise RuntimeError("the provider registry broke")
        result = await super().chat(endpoint, request, retry=retry)
        self.answered += 1
        return result


async def _queued_run(app: Any, client: httpx.AsyncClient, env: Env, fake: Any, inputs: list[str]) -> uuid.UUID:
    instance_id = await create_instance(client, env, fake)
    cases = [{"input_message": text} for text in inputs]
    suite_id = await create_suite(client, env, instance_id=instance_id, cases=cases, config={"concurrency": 8})
    r = await client.post(f"/v1/evaluations/{suite_id}/run", headers=env.headers)
    assert r.status_code == 200, r.text
    run_id = uuid.UUID(r.json()["task_id"])
    assert await claim_run(app.state.sessionmaker, run_id, "test-worker")
    return run_id


async def _run_row(app: Any, run_id: uuid.UUID) -> RunRow:
    async with app.state.sessionmaker() as session:
        row = await session.get(RunRow, run_id)
        assert row is not None
        return row


def _tasks_of(run_id: uuid.UUID) -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if str(run_id) in t.get_name() and not t.done()]


async def _execute(app: Any, run_id: uuid.UUID, registry: ProviderRegistry, **kw: Any) -> str:
    return await execute_run(
        run_id, sessionmaker=app.state.sessionmaker, secret_key=app.state.settings.secret_key, registry=registry, **kw
    )


async def test_a_raising_worker_cancels_its_siblings_and_fails_the_run(app, client, fake) -> None:  # noqa: ANN001
    env = await make_env(app, "worker-raises")
    run_id = await _queued_run(app, client, env, fake, [QUICK, HANG, HANG, BOOM])
    registry = BreakingRegistry()

    status = await asyncio.wait_for(_execute(app, run_id, registry), 30)

    assert status == "failed"
    row = await _run_row(app, run_id)
    assert row.status == "failed" and row.error == "the provider registry broke" and row.lease_until is None
    assert registry.cancelled == registry.hanging == 2  # the hanging siblings were cancelled, not left running
    assert _tasks_of(run_id) == []
    async with app.state.sessionmaker() as session:
        results = await run_store.list_results(session=session, run_id=run_id)
    assert [r.status for r in results] == ["unscored"]  # the finished case is kept
    assert row.summary["completed"] == 1


@pytest.fixture
def failing_cancel_checks(app: Any) -> Iterator[list[int]]:
    """Make the watcher's `SELECT runs.cancel_requested …` fail in the driver, as an unreachable database does."""
    failures: list[int] = []

    def fail_the_check(_conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().startswith("SELECT runs.cancel_requested"):
            failures.append(1)
            raise OperationalError(statement, params, Exception("injected: the database does not answer"))

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", fail_the_check)
    yield failures
    event.remove(app.state.engine.sync_engine, "before_cursor_execute", fail_the_check)


async def test_a_failing_watcher_cancels_the_workers_and_fails_the_run(
    app, client, fake, failing_cancel_checks
) -> None:  # noqa: ANN001
    env = await make_env(app, "watcher-fails")
    run_id = await _queued_run(app, client, env, fake, [HANG, HANG, HANG])
    registry = BreakingRegistry()

    status = await asyncio.wait_for(_execute(app, run_id, registry, lease=timedelta(seconds=2)), 30)

    assert status == "failed"
    assert len(failing_cancel_checks) >= 2  # one failed check is retried; the run stops when they keep failing
    row = await _run_row(app, run_id)
    assert row.status == "failed" and row.lease_until is None
    assert "checking for cancellation and renewing its lease failed" in row.error
    assert "injected: the database does not answer" in row.error
    assert registry.cancelled == registry.hanging == 3
    assert _tasks_of(run_id) == []


async def test_shutdown_keeps_finished_results_and_leaves_the_lease_to_lapse(app, client, fake) -> None:  # noqa: ANN001
    env = await make_env(app, "shutdown")
    run_id = await _queued_run(app, client, env, fake, [QUICK, HANG, HANG])
    registry = BreakingRegistry()
    task = asyncio.create_task(_execute(app, run_id, registry))
    while registry.hanging < 2:
        await asyncio.sleep(0.01)
    while True:  # the quick case reaches the writer's next flush
        async with app.state.sessionmaker() as session:
            if await run_store.list_results(session=session, run_id=run_id):
                break
        await asyncio.sleep(0.02)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)

    row = await _run_row(app, run_id)
    assert row.status == "running" and row.lease_until is not None and row.error is None
    assert registry.cancelled == 2
    assert _tasks_of(run_id) == []


async def test_server_shutdown_closes_the_http_instance_clients(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, workers=0, _env_file=None))  # type: ignore[call-arg]
    async with app.router.lifespan_context(app):
        spec = HttpSpec.model_validate({"kind": "http", "url": "http://agent.invalid/chat"})
        http_client = get_http_clients().client(spec)
        assert not http_client.is_closed
    assert http_client.is_closed
