"""Watching a run's task: what counts as a change, and telling the caller's `on_progress` about it."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from assay.client._models import Task

ProgressCallback = Callable[[Task], object]
AsyncProgressCallback = Callable[[Task], object | Awaitable[object]]
"""On `AsyncClient`, `on_progress` may also be a coroutine function."""


def task_signature(task: Task) -> tuple[Any, ...]:
    """What `on_progress` watches: a change of any of these is reported."""
    p = task.progress
    return (task.status, p.total, p.completed, p.errors, task.error)


def report_progress(on_progress: ProgressCallback, task: Task) -> None:
    """Call `on_progress` with the task (what it returns is ignored)."""
    on_progress(task)


async def areport_progress(on_progress: AsyncProgressCallback, task: Task) -> None:
    """Call `on_progress` with the task, awaiting what it returns when that is awaitable."""
    outcome = on_progress(task)
    if inspect.isawaitable(outcome):
        await outcome
