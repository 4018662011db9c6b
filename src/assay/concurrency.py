"""Small asyncio helpers that keep background loops cancellable and their shutdown bounded.

`asyncio.wait_for` on Python 3.11 loses a cancellation that arrives in the same loop iteration as the
awaited future completes (it returns the result instead of raising), so a polling loop built on it can
survive `task.cancel()` and make a shutdown that awaits it hang. `asyncio.timeout` does not have this
flaw; every wait with a deadline in Assay goes through it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

STOP_GRACE_SECONDS = 10.0
"""How long a stopping background loop waits for its cancelled tasks before it logs them and goes on."""


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until `event` is set or `timeout` seconds pass; True when it was set. Cancellation always propagates."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def with_timeout(awaitable: Awaitable[T], timeout: float) -> T:
    """Await `awaitable`, raising TimeoutError after `timeout` seconds (a cancellation-safe `wait_for`)."""
    async with asyncio.timeout(timeout):
        return await awaitable


async def cancel_and_wait(tasks: Iterable[asyncio.Task[object]], *, grace: float, what: str) -> None:
    """Cancel `tasks` and wait at most `grace` seconds for them to end; never raises, never hangs.

    Tasks that outlive the grace period (a cancellation swallowed somewhere below) are cancelled once more
    and logged, so a process or a test teardown goes on instead of waiting forever.
    """
    pending = {task for task in tasks if not task.done()}
    for task in pending:
        task.cancel()
    if not pending:
        return
    _, still = await asyncio.wait(pending, timeout=grace)
    if still:
        for task in still:
            task.cancel()
        _, still = await asyncio.wait(still, timeout=1.0)
    for task in still:
        logger.warning("%s: task %s did not stop within %.1f s of being cancelled", what, task.get_name(), grace)
    for task in pending - still:
        if not task.cancelled() and task.exception() is not None:
            logger.debug("%s: task %s ended with %r", what, task.get_name(), task.exception())
