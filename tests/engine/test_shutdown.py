"""Background loops stop when told to, at once and always: a shutdown (or a test's teardown) never hangs.

On Python 3.11, `asyncio.wait_for(event.wait(), …)` loses a cancellation that arrives in the loop iteration in
which the event is set; a polling loop built on it then survives `cancel()`, and the `stop()` awaiting it waits
forever. That is what hung the suite in an online-evaluation fixture's teardown on a busy machine.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from assay.api.app import create_app
from assay.concurrency import cancel_and_wait, wait_event
from assay.engine.online.scheduler import OnlineScheduler
from assay.engine.runs.dispatch import InProcessDispatcher
from assay.settings import Settings

pytestmark = pytest.mark.timeout(60)


async def _stop_within(stop: asyncio.Future[None] | asyncio.Task[None], seconds: float) -> float:
    start = time.monotonic()
    done, _ = await asyncio.wait({stop}, timeout=seconds)
    assert done, f"stop() did not return within {seconds} s"
    stop.result()
    return time.monotonic() - start


async def test_wait_event_never_swallows_a_cancellation() -> None:
    event = asyncio.Event()

    async def poll_forever() -> None:
        while True:
            await wait_event(event, 0.05)
            event.clear()
            await asyncio.sleep(0)

    for delay in (0.0, 0.01, 0.03):
        task = asyncio.create_task(poll_forever())
        await asyncio.sleep(delay)
        event.set()
        task.cancel()  # in the same iteration as the wake-up: the case wait_for loses
        done, _ = await asyncio.wait({task}, timeout=2)
        assert done and task.cancelled()


async def test_wait_event_reports_set_and_timeout() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 1) is True


async def test_cancel_and_wait_gives_up_on_a_task_that_ignores_cancellation(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue  # swallows every cancellation

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    took = await _stop_within(asyncio.ensure_future(cancel_and_wait([task], grace=0.2, what="test")), 5)
    assert took < 3
    assert "stubborn" in caplog.text and "did not stop" in caplog.text
    release.set()
    task.cancel()
    await asyncio.wait({task}, timeout=1)


async def test_dispatcher_stops_when_woken_and_cancelled_together(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    try:
        for _ in range(5):
            dispatcher = InProcessDispatcher(app.state.sessionmaker, secret_key="k" * 32, poll_interval=0.05)
            dispatcher.start()
            await asyncio.sleep(0.1)  # the loop is waiting for a wake-up
            dispatcher.notify()
            assert await _stop_within(asyncio.ensure_future(dispatcher.stop()), 15) < 12
    finally:
        await app.state.engine.dispose()


async def test_online_scheduler_stops_when_woken_and_cancelled_together(database_url: str) -> None:
    settings = Settings(database_url=database_url, online_poll_seconds=0.05, _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    try:
        for _ in range(5):
            scheduler = OnlineScheduler(app.state.sessionmaker, settings)
            scheduler.start()
            await asyncio.sleep(0.2)
            scheduler.notify()
            assert await _stop_within(asyncio.ensure_future(scheduler.stop()), 15) < 12
    finally:
        await app.state.engine.dispose()


async def test_app_lifespan_exit_is_bounded_while_events_arrive(database_url: str) -> None:
    settings = Settings(database_url=database_url, online_poll_seconds=0.02, _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.2)
        app.state.online.notify()
        app.state.dispatcher.notify()
        start = time.monotonic()
    assert time.monotonic() - start < 12
