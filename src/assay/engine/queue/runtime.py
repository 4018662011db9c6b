"""What a process's queue jobs share: database, settings, providers, the drain signal, case slots, prepared runs."""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from procrastinate import App

from assay.domain.runs import RunSnapshot
from assay.engine.online.scheduler import OnlineScheduler
from assay.engine.runs.executor import PreparedRun, RunIds, prepare_run
from assay.engine.runs.judge_cache import DatabaseJudgeCache
from assay.providers import ProviderRegistry
from assay.settings import Settings
from assay.storage import run_execution
from assay.storage.db import SessionFactory

PREPARED_RUNS_KEPT = 8


@dataclass(slots=True)
class QueueRuntime:
    """One per worker process; handed to every job through the worker's context."""

    app: App
    sessionmaker: SessionFactory
    settings: Settings
    registry: ProviderRegistry
    concurrency: int
    """Cases in flight at once in this process, across all its chunk jobs."""
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the process drains (SIGTERM): chunks stop after their cases in flight."""
    slots: asyncio.Semaphore = field(init=False)
    online: OnlineScheduler | None = None
    jobs: int = 0
    _prepared: OrderedDict[uuid.UUID, tuple[RunSnapshot, PreparedRun]] = field(default_factory=OrderedDict)
    _judge_cache: DatabaseJudgeCache | None = None

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.concurrency)
        self._judge_cache = DatabaseJudgeCache(self.sessionmaker)

    @property
    def in_flight(self) -> int:
        """Cases being evaluated right now in this process."""
        return self.concurrency - self.slots._value

    async def prepared_run(self, run_id: uuid.UUID) -> tuple[RunSnapshot, PreparedRun] | None:
        """The run's snapshot and evaluators, built once per process (a run's chunks share them); None if gone."""
        cached = self._prepared.get(run_id)
        if cached is not None:
            self._prepared.move_to_end(run_id)
            return cached
        async with self.sessionmaker() as session:
            started = await run_execution.start_execution(session=session, run_id=run_id)
            await session.commit()
        if started is None:
            return None
        ids = RunIds(id=started.id, suite_id=started.suite_id, environment_id=started.environment_id)
        prepared = prepare_run(
            ids,
            started.snapshot,
            secret_key=self.settings.secret_key,
            registry=self.registry,
            judge_cache=self._judge_cache,
        )
        self._prepared[run_id] = (started.snapshot, prepared)
        while len(self._prepared) > PREPARED_RUNS_KEPT:
            self._prepared.popitem(last=False)
        return started.snapshot, prepared


def runtime_of(context: Any) -> QueueRuntime:
    """The runtime from a job's context (set by `assay worker` as `additional_context["runtime"]`)."""
    runtime = context.additional_context.get("runtime")
    if not isinstance(runtime, QueueRuntime):
        raise RuntimeError("this job runs only in an `assay worker` process")
    return runtime
