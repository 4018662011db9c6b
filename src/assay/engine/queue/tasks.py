"""Assay's queue tasks: a run's chunk, the online scheduling and evaluation passes, and the periodic recovery.

A chunk evaluates the pairs `[start, stop)` of its run (skipping those with a stored result, so a retried
chunk never repeats an LLM call for a stored case), then ends; the chunk that ends last computes the run's
summary (`storage/run_chunks.py`: under a row lock, exactly once). A draining worker (SIGTERM) finishes its
cases in flight and puts the rest of the chunk back in the queue. A SIGKILLed worker's jobs stay `doing`
until the periodic recovery finds them stalled (no heartbeat) and retries them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from procrastinate import App

from assay.domain.runs import CaseSpec
from assay.domain.statuses import RunStatus
from assay.engine.queue.app import CONTROL_QUEUE, ONLINE_QUEUE, RUNS_QUEUE
from assay.engine.queue.dispatch import (
    ONLINE_EVALUATE,
    ONLINE_SCHEDULE,
    RECOVER,
    RUN_CHUNK,
    defer_chunk,
    defer_once,
    dispatch_queued_runs,
)
from assay.engine.queue.runtime import QueueRuntime, runtime_of
from assay.engine.runs.executor import record_end, run_pairs
from assay.engine.runs.writer import DEFAULT_LEASE
from assay.storage import run_chunks, run_execution, worker_processes

logger = logging.getLogger(__name__)


def chunk_pairs(cases: Sequence[CaseSpec], repetitions: int, start: int, stop: int) -> list[tuple[CaseSpec, int]]:
    """The (case, repetition) pairs `[start, stop)` of a run, in the order of its cases then repetitions."""
    return [(cases[i // repetitions], i % repetitions) for i in range(start, min(stop, len(cases) * repetitions))]


async def run_chunk(runtime: QueueRuntime, run_id: uuid.UUID, chunk: int) -> str:
    """Execute one chunk of a run; returns how it ended (`completed`, `cancelled`, `failed`, `stopped`, `skipped`)."""
    async with runtime.sessionmaker() as session:
        bounds = await run_chunks.chunk_bounds(session=session, run_id=run_id, chunk=chunk)
        if bounds is None or bounds[2]:
            return "skipped"
        over = await run_chunks.run_is_over(session=session, run_id=run_id)
        cancel = await run_execution.is_cancel_requested(session=session, run_id=run_id)
    if over or cancel:
        await end_chunk(runtime, run_id, chunk)
        return "skipped"
    try:
        loaded = await runtime.prepared_run(run_id)
    except Exception as exc:
        logger.exception("run %s cannot start", run_id)
        await fail_run(runtime, run_id, f"The run could not start: {exc}")
        return RunStatus.FAILED
    if loaded is None:
        return "skipped"
    snapshot, prepared = loaded
    pairs = chunk_pairs(snapshot.cases, snapshot.repetitions, bounds[0], bounds[1])
    async with runtime.sessionmaker() as session:
        done = await run_chunks.stored_keys_for_cases(
            session=session, run_id=run_id, case_ids=list({uuid.UUID(c.id) for c, _ in pairs})
        )
    pending = [(case, rep) for case, rep in pairs if (case.id, rep) not in done]
    ending = await run_pairs(
        pending,
        run=prepared,
        sessionmaker=runtime.sessionmaker,
        registry=runtime.registry,
        lease=DEFAULT_LEASE,
        concurrency=max(1, min(snapshot.concurrency, len(pending))),
        stop=runtime.stop,
        slots=runtime.slots,
    )
    if ending.status == "stopped":  # draining: the rest of the chunk goes back to the queue
        await defer_chunk(runtime.app, run_id, chunk)
        return "stopped"
    if ending.error is not None:
        await fail_run(runtime, run_id, ending.error)
        return RunStatus.FAILED
    await end_chunk(runtime, run_id, chunk)
    return ending.status


async def end_chunk(runtime: QueueRuntime, run_id: uuid.UUID, chunk: int) -> None:
    """Mark the chunk finished; the last one records the run's end (completed, or cancelled if asked)."""
    async with runtime.sessionmaker() as session:
        row = await run_chunks.end_chunk(session=session, run_id=run_id, chunk=chunk)
        if row is not None:
            await record_end(session, row, RunStatus.CANCELLED if row.cancel_requested else RunStatus.COMPLETED)
        await session.commit()


async def fail_run(runtime: QueueRuntime, run_id: uuid.UUID, error: str) -> None:
    """End the run `failed` at once (its other chunks then end without evaluating)."""
    async with runtime.sessionmaker() as session:
        row = await run_chunks.lock_unfinished_run(session=session, run_id=run_id)
        if row is not None:
            await record_end(session, row, RunStatus.FAILED, error=error)
        await session.commit()


async def recover(runtime: QueueRuntime) -> dict[str, int]:
    """The periodic pass: retry jobs of dead workers, dispatch queued runs, wake the online jobs."""
    settings = runtime.settings
    stalled = list(
        await runtime.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.queue_stalled_seconds)
    )
    for job in stalled:
        logger.warning("retrying job %s (%s): its worker stopped sending heartbeats", job.id, job.task_name)
        await runtime.app.job_manager.retry_job(job)
    dispatched = await dispatch_queued_runs(runtime.sessionmaker, runtime.app, chunk_size=settings.chunk_size)
    if settings.online_evaluation:
        await defer_once(runtime.app, ONLINE_SCHEDULE)
        await defer_once(runtime.app, ONLINE_EVALUATE)
    async with runtime.sessionmaker() as session:
        await worker_processes.forget_silent(session=session, seconds=max(60.0, settings.queue_stalled_seconds * 6))
        await session.commit()
    return {"stalled": len(stalled), "dispatched": dispatched}


def register_tasks(app: App) -> None:
    """Register every Assay task (and the periodic recovery) on `app`."""

    @app.task(name=RUN_CHUNK, queue=RUNS_QUEUE, pass_context=True)
    async def _run_chunk(context: Any, run_id: str, chunk: int) -> str:
        runtime = runtime_of(context)
        runtime.jobs += 1
        try:
            return await run_chunk(runtime, uuid.UUID(run_id), chunk)
        finally:
            runtime.jobs -= 1

    @app.task(name=ONLINE_SCHEDULE, queue=ONLINE_QUEUE, pass_context=True)
    async def _online_schedule(context: Any) -> int:
        runtime = runtime_of(context)
        if runtime.online is None:
            return 0
        queued = 0
        while True:
            before = runtime.online.scheduled
            more = await runtime.online.schedule_once()
            queued += runtime.online.scheduled - before
            if not more:
                break
        if queued:
            await defer_once(runtime.app, ONLINE_EVALUATE)
        return queued

    @app.task(name=ONLINE_EVALUATE, queue=ONLINE_QUEUE, pass_context=True)
    async def _online_evaluate(context: Any) -> int:
        runtime = runtime_of(context)
        if runtime.online is None:
            return 0
        runtime.jobs += 1
        try:
            return await runtime.online.run_queued(stop=runtime.stop)
        finally:
            runtime.jobs -= 1

    # One waiting at most (a busy cluster skips ticks instead of piling them up), ahead of the chunks.
    @app.periodic(cron="* * * * * */2", periodic_id="recover", queueing_lock=RECOVER, priority=10)
    @app.task(name=RECOVER, queue=CONTROL_QUEUE, pass_context=True)
    async def _recover(context: Any, timestamp: int) -> dict[str, int]:
        return await recover(runtime_of(context))
