"""The online evaluation scheduler: follows the events table, queues matching runs, and executes them.

One asyncio loop per process (started in the app's lifespan):

1. **Schedule.** Read the events after the stored cursor, up to the committed horizon
   (`storage.online.committed_horizon`: exact on both databases, no time lag). For each `$ai_generation`
   event, every enabled, non-deleted evaluator of its environment whose conditions trigger gets a queued
   online run. Sampling is decided on the light columns first (`ingest.triggers.sampled_filters`), so only
   sampled-in events whose conditions have property filters are read in full. The runs are inserted (ignoring pairs
   already queued) in the same transaction that moves the cursor by compare-and-set, so a restart resumes
   exactly where it stopped and two schedulers never queue a pair twice.
2. **Execute.** Claim queued runs with a lease (a conditional UPDATE), run them concurrently (bounded),
   and record outcomes in batches with their `$ai_evaluation` events. A run whose worker died is claimed
   again once its lease lapses. A retryable failure (a provider error or timeout, never a Hog error, a
   skip or a deleted evaluation) goes back to the queue with exponential backoff, as PostHog's judge retry
   policy does; after `online_max_attempts` attempts in all the run fails. Only a completed run stores an
   event, and the run's row is recorded once, so each (evaluation, event) pair yields one event at most.
3. **Report.** Every failed, retried or skipped run is logged through `FailureLog`: once per evaluation
   and cause, then a count every few minutes.

Evaluators are cached per environment and reloaded when the environment's (count, latest `updated_at`)
of evaluators changes, which one cheap grouped query checks on every poll with new events.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from assay.concurrency import STOP_GRACE_SECONDS, cancel_and_wait, wait_event
from assay.domain.ai_events import GENERATION
from assay.domain.statuses import EvaluationRunStatus
from assay.domain.trace_subject import KIND_TARGETS, TARGET_KINDS, TRACE_EVENTS, TraceEventData, subject_properties
from assay.engine.online.evaluate import EvaluatorSpec, OnlineContext, TargetEvent, evaluate_event
from assay.engine.online.failures import FailureLog
from assay.engine.online.trace_matching import TraceTrigger, seqs_needing_properties, trace_marks
from assay.ingest.matching import matches
from assay.ingest.triggers import sampled_filters, uses_patterns
from assay.providers import ProviderRegistry
from assay.settings import Settings
from assay.storage import online as store
from assay.storage import trace_candidates as trace_store
from assay.storage.db import Session, SessionFactory, write_lock
from assay.storage.online import ClaimedRun, EvaluationRunOutcome, EventHead
from assay.storage.tables import EvaluatorRow
from assay.storage.types import utcnow

logger = logging.getLogger(__package__)  # "assay.engine.online": the online-evaluation log

CURSOR_NAME = "online-evaluation"
FLUSH_INTERVAL = 0.05
FLUSH_BATCH = 200
THREAD_MATCHING_ABOVE = 50


def evaluator_spec(row: EvaluatorRow) -> EvaluatorSpec:
    """A run's copy of an evaluator row (with its model configuration, if any)."""
    model = None
    if row.model_configuration is not None:
        mc = row.model_configuration
        model = {
            "provider": mc.provider,
            "model": mc.model,
            "provider_key_id": str(mc.provider_key_id) if mc.provider_key_id else None,
        }
    return EvaluatorSpec(
        id=row.id,
        environment_id=row.environment_id,
        name=row.name,
        evaluation_type=row.evaluation_type,
        evaluation_config=dict(row.evaluation_config or {}),
        output_type=row.output_type,
        output_config=dict(row.output_config or {}),
        model=model,
        deleted=bool(row.deleted),
    )


def retry_delay(attempt: int, *, initial: float, maximum: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): doubling from `initial`, capped."""
    return min(maximum, initial * 2.0 ** max(0, attempt - 1))


@dataclass(frozen=True, slots=True)
class _Trigger:
    evaluator_id: uuid.UUID
    conditions: list[Any]
    uses_patterns: bool = False


Pair = tuple[uuid.UUID, uuid.UUID, uuid.UUID, int]
"""`(environment, evaluator, event uuid, seq)`: one online run to queue."""


@dataclass(slots=True)
class MatchPlan:
    """Pairs decided from the light columns alone, and those whose filters still need the event's properties."""

    pairs: list[Pair]
    pending: dict[int, list[tuple[EventHead, uuid.UUID, list[list[Any]]]]]
    uses_patterns: bool = False
    """A pending filter runs a regular expression: match off the event loop, however few events."""


def plan_matches(heads: Sequence[EventHead], triggers: dict[uuid.UUID, list[_Trigger]]) -> MatchPlan:
    """Sample every `(event, evaluator)` pair on `distinct_id`; only sampled-in pairs with filters need properties.

    With the usual low sampling rates this leaves most events unread beyond their light columns.
    """
    plan = MatchPlan(pairs=[], pending={})
    for head in heads:
        for trigger in triggers.get(head.environment_id, ()):
            programs = sampled_filters(trigger.conditions, head.distinct_id)
            if programs is None:
                continue
            if not programs:
                plan.pairs.append((head.environment_id, trigger.evaluator_id, head.uuid, head.seq))
            else:
                plan.pending.setdefault(head.seq, []).append((head, trigger.evaluator_id, programs))
                plan.uses_patterns = plan.uses_patterns or trigger.uses_patterns
    return plan


def finish_matches(plan: MatchPlan, properties: dict[int, dict[str, Any]]) -> list[Pair]:
    """Run the pending filter programs against the events' properties; the plan's pairs plus those that match."""
    pairs = list(plan.pairs)
    for seq, waiting in plan.pending.items():
        props = properties.get(seq)
        if props is None:
            continue  # deleted in between: nothing to evaluate
        for head, evaluator_id, programs in waiting:
            if any(matches(p, GENERATION, head.distinct_id, props) for p in programs):
                pairs.append((head.environment_id, evaluator_id, head.uuid, seq))
    return pairs


async def _trace_target(session: Session, run: ClaimedRun) -> TargetEvent | None:
    """The whole trace (or session) a run evaluates, as one target event; None when none of its events is left."""
    kind = run.target_kind if run.target_kind in KIND_TARGETS else "trace"
    rows = await trace_store.trace_events(
        session=session, environment_id=run.environment_id, kind=kind, key=run.target_key or ""
    )
    if not rows:
        return None
    events = [TraceEventData(str(r.uuid), r.event, r.distinct_id, r.timestamp, r.properties) for r in rows]
    return TargetEvent(
        uuid=run.event_uuid,
        event=KIND_TARGETS[kind],
        distinct_id=rows[-1].distinct_id,
        properties=subject_properties(kind, run.target_key or "", events),
    )


class OnlineScheduler:
    """Schedules and executes online (and manual) evaluation runs in this process."""

    def __init__(
        self,
        sessionmaker: SessionFactory,
        settings: Settings,
        *,
        registry: ProviderRegistry | None = None,
        batch_size: int = 2000,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._ctx = OnlineContext(sessionmaker=sessionmaker, settings=settings, registry=registry)
        self._poll = settings.online_poll_seconds
        self._max = max(1, settings.online_concurrency)
        self._lease = timedelta(seconds=settings.online_lease_seconds)
        self._max_attempts = settings.online_max_attempts
        self._retry_initial = settings.online_retry_seconds
        self._retry_max = settings.online_retry_max_seconds
        self.failures = FailureLog(logger)
        self._batch = batch_size
        self._wake = asyncio.Event()
        self._flush_wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._pending: list[EvaluationRunOutcome] = []
        self._versions: dict[uuid.UUID, tuple[int, datetime | None]] = {}
        self._triggers: dict[uuid.UUID, list[_Trigger]] = {}
        self._trace_triggers: dict[uuid.UUID, list[TraceTrigger]] = {}
        self._default_idle = timedelta(seconds=settings.online_trace_idle_seconds)
        self._cursor: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.scheduled = 0
        self.finished = 0

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(), name="assay-online-scheduler"),
            asyncio.create_task(self._flush_loop(), name="assay-online-writer"),
        ]

    def notify(self) -> None:
        """Look for new events and queued runs now (cheap; called after every stored batch)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop; runs in flight are cancelled and keep their lease, so they are retried after it lapses."""
        loop_task, flush_task = self._tasks or (None, None)
        if loop_task is not None:
            await cancel_and_wait([loop_task], grace=STOP_GRACE_SECONDS, what="online scheduler")
        await cancel_and_wait(list(self._running), grace=STOP_GRACE_SECONDS, what="online evaluation runs")
        if flush_task is not None:
            await cancel_and_wait([flush_task], grace=STOP_GRACE_SECONDS, what="online outcome writer")
        try:
            await self._flush()
        except Exception:
            logger.exception("writing evaluation outcomes at shutdown failed; the runs will be retried")
        self.failures.flush(force=True)
        self._tasks = []

    # --- scheduling ---------------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        async with self._sessionmaker() as session:
            await store.ensure_cursor(session=session, name=CURSOR_NAME)
        while True:
            more = False
            try:
                more = await self.schedule_once()
            except Exception:
                logger.exception("online scheduling failed")
            try:
                more = await self.queue_idle_traces() or more
            except Exception:
                logger.exception("queueing idle traces failed")
            try:
                await self._dispatch()
            except Exception:
                logger.exception("claiming evaluation runs failed")
            if more:
                continue
            await wait_event(self._wake, self._poll)
            self._wake.clear()

    async def _refresh_triggers(self, session: Session, environments: set[uuid.UUID]) -> None:
        versions = await store.evaluator_versions(session=session)
        stale = [env for env in environments if versions.get(env) != self._versions.get(env)]
        if not stale:
            return
        rows = await store.active_evaluators(session=session, environment_ids=stale)
        fresh: dict[uuid.UUID, list[_Trigger]] = {env: [] for env in stale}
        fresh_traces: dict[uuid.UUID, list[TraceTrigger]] = {env: [] for env in stale}
        for row in rows:
            if not row.conditions:  # no conditions: never fires online
                continue
            kind = TARGET_KINDS.get(row.target or GENERATION)
            if kind is None:
                fresh[row.environment_id].append(_Trigger(row.id, list(row.conditions), uses_patterns(row.conditions)))
            else:
                idle = timedelta(seconds=row.idle_seconds) if row.idle_seconds is not None else self._default_idle
                fresh_traces[row.environment_id].append(
                    TraceTrigger(row.id, list(row.conditions), kind, idle, uses_patterns(row.conditions))
                )
        for env in stale:
            self._triggers[env] = fresh[env]
            self._trace_triggers[env] = fresh_traces[env]
            self._versions[env] = versions.get(env, (0, None))

    async def schedule_once(self) -> bool:
        """Consume one batch of events beyond the cursor; True when more may be waiting."""
        async with self._sessionmaker() as session:
            horizon = await store.committed_horizon(session=session)
            if self._cursor is None:  # known after our own advances; re-read when another scheduler moved it
                self._cursor = await store.read_cursor(session=session, name=CURSOR_NAME)
            cursor = self._cursor
            if cursor >= horizon:
                return False
            heads = await store.event_heads(session=session, after=cursor, upto=horizon, limit=self._batch)
            if not heads:
                return False
            traced = [h for h in heads if h.event in TRACE_EVENTS]
            await self._refresh_triggers(session, {h.environment_id for h in traced})
            generations = [h for h in traced if h.event == GENERATION]
            plan = plan_matches(generations, self._triggers)
            trace_heads = [h for h in traced if self._trace_triggers.get(h.environment_id)]
            wanted = set(plan.pending) | set(seqs_needing_properties(trace_heads, self._trace_triggers))
            properties = await store.event_properties(session=session, seqs=sorted(wanted))
            await session.commit()
        threaded = plan.uses_patterns or len(wanted) > THREAD_MATCHING_ABOVE  # keep the loop (ingestion) responsive
        threaded = threaded or any(t.uses_patterns for h in trace_heads for t in self._trace_triggers[h.environment_id])
        if threaded:
            pairs = await asyncio.to_thread(finish_matches, plan, properties)
            marks = await asyncio.to_thread(trace_marks, trace_heads, self._trace_triggers, properties)
        else:
            pairs = finish_matches(plan, properties)
            marks = trace_marks(trace_heads, self._trace_triggers, properties)
        async with self._sessionmaker() as session, write_lock(session):
            if not await store.advance_cursor(
                session=session, name=CURSOR_NAME, expected=cursor, last_seq=heads[-1].seq
            ):
                await session.rollback()  # another scheduler consumed these events
                self._cursor = None
                return True
            queued = await store.queue_online_runs(session=session, pairs=pairs)
            await trace_store.mark_candidates(session=session, marks=marks)
            await session.commit()
        self._cursor = heads[-1].seq
        self.scheduled += queued
        return len(heads) >= self._batch

    async def queue_idle_traces(self) -> bool:
        """Queue a run for every trace candidate whose idle time has passed; True when more may be due."""
        now = utcnow()
        async with self._sessionmaker() as session:
            due = await trace_store.any_due(session=session, now=now)
            await session.commit()
        if not due:
            return False
        async with self._sessionmaker() as session, write_lock(session):
            taken, queued = await trace_store.queue_due_candidates(session=session, now=now, limit=self._batch)
            await session.commit()
        self.scheduled += queued
        return taken >= self._batch

    # --- execution ----------------------------------------------------------------------------------------------

    async def run_queued(self, *, stop: asyncio.Event | None = None) -> int:
        """Claim and execute queued runs until none is left (a queue job's body); how many were recorded.

        `stop` set (the process drains) stops claiming; the runs in flight finish and are recorded.
        """
        recorded = 0
        while stop is None or not stop.is_set():
            await self._dispatch()
            if not self._running:
                break
            await asyncio.wait(set(self._running), return_when=asyncio.FIRST_COMPLETED)
            self.failures.flush()
            recorded += await self._flush()
        if self._running:
            await asyncio.wait(set(self._running))
        recorded += await self._flush()
        self.failures.flush()
        return recorded

    async def _dispatch(self) -> None:
        free = self._max - len(self._running)
        if free <= 0:
            return
        async with self._sessionmaker() as session, write_lock(session):
            claimed = await store.claim_runs(session=session, worker_id=self.worker_id, lease=self._lease, limit=free)
            if not claimed:
                return
            evaluators = await store.evaluators_by_id(session=session, ids=[c.evaluator_id for c in claimed])
            events = await store.events_by_seqs(
                session=session, seqs=[c.event_seq for c in claimed if c.target_kind is None]
            )
            specs = {k: evaluator_spec(v) for k, v in evaluators.items()}
            targets: dict[str, TargetEvent | None] = {}
            for run in claimed:
                if run.target_kind is None:
                    e = events.get(run.event_seq)
                    targets[run.workflow_id] = (
                        None
                        if e is None
                        else TargetEvent(e.uuid, e.event, e.distinct_id, properties=dict(e.properties))
                    )
                else:
                    targets[run.workflow_id] = await _trace_target(session, run)
            await session.commit()
        for run in claimed:
            task = asyncio.create_task(self._execute(run, specs.get(run.evaluator_id), targets.get(run.workflow_id)))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _execute(self, run: ClaimedRun, spec: EvaluatorSpec | None, target: TargetEvent | None) -> None:
        outcome = await self._attempt(run, spec, target)
        if outcome.status == EvaluationRunStatus.FAILED and outcome.retryable:
            outcome = self._retry_or_give_up(run, outcome)
        if outcome.status != EvaluationRunStatus.COMPLETED:
            self._report(run, spec, outcome)
        self._pending.append(outcome)
        if len(self._pending) >= FLUSH_BATCH:
            self._flush_wake.set()

    async def _attempt(
        self, run: ClaimedRun, spec: EvaluatorSpec | None, target: TargetEvent | None
    ) -> EvaluationRunOutcome:
        def failed(cause: str, error: str) -> EvaluationRunOutcome:
            return EvaluationRunOutcome(
                run.workflow_id, run.environment_id, EvaluationRunStatus.FAILED, error=error, cause=cause
            )

        if run.attempts > self._max_attempts:  # claimed again and again: its workers keep dying
            return failed("lease_expired", f"Gave up after {self._max_attempts} attempts")
        if spec is None:
            return failed("evaluation_not_found", f"Evaluation {run.evaluator_id} not found")
        if run.attempts > 1 and spec.deleted:
            return failed("evaluation_deleted", f"Evaluation {run.evaluator_id} was deleted; the run is not retried")
        if target is None or target.uuid != run.event_uuid:
            return failed("event_not_found", f"Event {run.event_uuid} not found")
        try:
            return await evaluate_event(
                self._ctx, workflow_id=run.workflow_id, spec=spec, target=target, start=run.started_at
            )
        except asyncio.CancelledError:
            raise
        except Exception as e:
            logger.exception("evaluation run %s failed unexpectedly", run.workflow_id)
            outcome = failed("unexpected_error", f"Unexpected error during evaluation: {type(e).__name__}")
            outcome.retryable = True
            return outcome

    def _retry_or_give_up(self, run: ClaimedRun, outcome: EvaluationRunOutcome) -> EvaluationRunOutcome:
        """Back to the queue with backoff while attempts remain; else the failure, saying how often it was tried."""
        if run.attempts < self._max_attempts:
            delay = retry_delay(run.attempts, initial=self._retry_initial, maximum=self._retry_max)
            return replace(
                outcome, status=EvaluationRunStatus.RETRYING, next_attempt_at=utcnow() + timedelta(seconds=delay)
            )
        return replace(outcome, error=f"{outcome.error} (gave up after {run.attempts} attempts)")

    def _report(self, run: ClaimedRun, spec: EvaluatorSpec | None, outcome: EvaluationRunOutcome) -> None:
        if outcome.status == EvaluationRunStatus.RETRYING and outcome.next_attempt_at is not None:
            wait = (outcome.next_attempt_at - utcnow()).total_seconds()
            detail = f"attempt {run.attempts} of {self._max_attempts}, retrying in {max(0.0, wait):.1f} s"
        elif outcome.status == EvaluationRunStatus.SKIPPED:
            detail = "skipped, no $ai_evaluation event"
        else:
            detail = f"failed, no $ai_evaluation event; run {run.workflow_id}"
        self.failures.record(
            evaluation_id=run.evaluator_id,
            name=spec.name if spec is not None else "?",
            cause=outcome.cause or "unknown",
            message=outcome.error or "",
            detail=detail,
        )

    async def _flush_loop(self) -> None:
        while True:
            await wait_event(self._flush_wake, FLUSH_INTERVAL)
            self._flush_wake.clear()
            self.failures.flush()
            try:
                if await self._flush():
                    self._wake.set()  # room for more runs
            except Exception:
                logger.exception("writing evaluation outcomes failed; retrying")
                await asyncio.sleep(0.2)

    async def _flush(self) -> int:
        if not self._pending:
            return 0
        batch, self._pending = self._pending, []
        try:
            async with self._sessionmaker() as session, write_lock(session):
                await store.finish_runs(session=session, worker_id=self.worker_id, outcomes=batch)
        except BaseException:
            self._pending[:0] = batch
            raise
        self.finished += len(batch)
        return len(batch)
