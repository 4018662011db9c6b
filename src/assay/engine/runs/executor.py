"""Executing one run: cases x (call the instance -> apply each evaluator), results streamed to the writer."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import orjson

from assay.domain.outcomes import CaseOutcome, ToolCall, Verdict
from assay.domain.runs import AppliesTo, CaseResult, CaseSpec, RunRecipe, RunSnapshot
from assay.domain.secrets import decrypt_secret
from assay.domain.statuses import ResultStatus, RunStatus
from assay.engine.runs.case_evaluators import ImpliedCheckEvaluator, build_evaluator
from assay.engine.runs.conversation import run_conversation
from assay.engine.runs.summary import compute_summary
from assay.engine.runs.writer import DEFAULT_LEASE, ResultWriter
from assay.evaluators.case_evaluator import CaseEvaluator
from assay.evaluators.judge_cache import JudgeCache
from assay.evaluators.recipe import RecipeItem, RecipeSpec, combine, describe_error
from assay.providers import ProviderRegistry
from assay.storage import run_execution
from assay.storage.db import Session, SessionFactory
from assay.storage.ids import uuid7
from assay.storage.run_tables import RunRow
from assay.storage.types import utcnow
from assay.targets.call import InstanceError, call_instance
from assay.targets.spec import parse_spec

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5.0


class PreparedRecipe:
    """The run's evaluators, built once, and how to pick and combine them for a case."""

    def __init__(self, recipe: RunRecipe, evaluators: list[CaseEvaluator]) -> None:
        self.recipe = recipe
        self.evaluators = evaluators
        self.pass_threshold = recipe.pass_threshold
        everything = tuple(range(len(recipe.items)))
        # Built now, so a recipe without items or with a bad threshold fails before any case runs.
        self._specs: dict[tuple[int, ...], RecipeSpec] = {everything: self._spec(everything)}

    def _spec(self, chosen: tuple[int, ...]) -> RecipeSpec:
        items = [self.recipe.items[n] for n in chosen]
        return RecipeSpec(
            items=[RecipeItem(evaluator=i.evaluator, weight=i.weight, required=i.required) for i in items],
            pass_threshold=self.pass_threshold,
        )

    def for_case(self, case: CaseSpec) -> tuple[list[CaseEvaluator], RecipeSpec | None]:
        """The evaluators applied to `case` and how their verdicts combine (nothing: the case is unscored)."""
        chosen = tuple(self.recipe.items_for(case))
        if not chosen:
            return [], None
        spec = self._specs.get(chosen)
        if spec is None:
            spec = self._specs[chosen] = self._spec(chosen)
        return [self.evaluators[n] for n in chosen], spec


def prepare_recipe(
    recipe: RunRecipe,
    *,
    secret_key: str,
    registry: ProviderRegistry,
    cache: JudgeCache | None,
    use_cache: bool = True,
    tenant: str = "",
) -> PreparedRecipe:
    """Build the run's evaluators once. `use_cache=False` makes every judgement a fresh LLM call.

    `tenant` (the run's environment id) keeps `python` items in sandbox workers of that environment.
    """
    evaluators: list[CaseEvaluator] = []
    for item in recipe.items:
        if item.implied is not None:
            evaluators.append(ImpliedCheckEvaluator(item.evaluator, item.implied))
        elif item.applies_to is not AppliesTo.EVERY_CASE and _judge_without_endpoint(item.evaluator):
            # The snapshot gives a judge to every case that needs one; the others never reach this stand-in.
            evaluators.append(_MissingJudge())
        else:
            evaluators.append(
                build_evaluator(
                    item.evaluator,
                    secret_key=secret_key,
                    registry=registry,
                    cache=cache,
                    use_cache=use_cache,
                    tenant=tenant,
                )
            )
    return PreparedRecipe(recipe, evaluators)


def _judge_without_endpoint(config: dict[str, Any]) -> bool:
    return config.get("type") == "llm_judge" and not config.get("judge_endpoint")


class _MissingJudge(CaseEvaluator):
    name = "llm_judge"

    async def evaluate(self, outcome: CaseOutcome) -> Verdict:
        return Verdict(self.name, "error", None, "", error="no judge model is configured")


def _tool_calls(raw: Any) -> list[ToolCall] | None:
    if not raw:
        return None
    return [ToolCall(name=str(c.get("name", "")), arguments=dict(c.get("arguments") or {})) for c in raw]


@dataclass(frozen=True, slots=True)
class RunIds:
    """Which run, suite and environment a result belongs to."""

    id: uuid.UUID
    suite_id: uuid.UUID
    environment_id: uuid.UUID


async def evaluate_case(
    case: CaseSpec,
    repetition: int,
    *,
    run: RunIds,
    spec: Any,
    recipe: PreparedRecipe,
    registry: ProviderRegistry,
    secret_key: str,
) -> CaseResult:
    """One case, start to finish. Every failure becomes a result with status `error`; nothing is raised.

    `secret_key` decrypts a simulated user's model key (conversation cases only)."""
    base = CaseResult(
        id=uuid7(),
        run_id=run.id,
        suite_id=run.suite_id,
        environment_id=run.environment_id,
        test_case_id=uuid.UUID(case.id),
        repetition=repetition,
        created_at=utcnow(),
        status=ResultStatus.ERROR,
    )
    if case.conversation:
        conversation = await _conversation_outcome(case, base, spec=spec, registry=registry, secret_key=secret_key)
        if isinstance(conversation, CaseResult):
            return conversation
        outcome, result = conversation
    else:
        fields = {"expected_behavior": case.expected_behavior, "tags": case.tags or []}
        try:
            reply = await call_instance(spec, case.input_message, fields, providers=registry)
        except InstanceError as exc:
            return replace(base, score_reason=f"The agent call failed: {exc}", error=str(exc))
        outcome = CaseOutcome(
            input=case.input_message,
            output=reply.text,
            expected=case.expected_behavior,
            expected_tool_calls=_tool_calls(case.expected_tool_calls),
            tool_calls=reply.tool_calls,
            latency_ms=reply.latency_ms,
            tokens=reply.tokens,
        )
        result = replace(
            base,
            agent_response=reply.text,
            tool_calls_made=[c.to_dict() for c in reply.tool_calls],
            latency_ms=round(reply.latency_ms, 3),
            tokens_used=reply.tokens,
        )
    evaluators, spec_for_case = recipe.for_case(case)
    if not evaluators or spec_for_case is None:
        return replace(
            result,
            status=ResultStatus.UNSCORED,
            score_reason="Nothing to score against: no recipe, expected behaviour or expected tool calls.",
        )
    if len(evaluators) == 1:
        verdicts = [await evaluators[0].evaluate(outcome)]
    else:
        verdicts = list(await asyncio.gather(*(e.evaluate(outcome) for e in evaluators)))
    scored = combine(spec_for_case, verdicts)
    errors = [describe_error(v) for v in verdicts if v.status == "error"]
    return replace(
        result,
        status=ResultStatus(scored.status),
        score=scored.score,
        score_reason=scored.reason,
        judge_tokens=sum(v.judge_tokens for v in verdicts),
        evaluator_results=[v.to_dict() for v in verdicts],
        error="; ".join(errors) if errors else None,
    )


async def _conversation_outcome(
    case: CaseSpec, base: CaseResult, *, spec: Any, registry: ProviderRegistry, secret_key: str
) -> tuple[CaseOutcome, CaseResult] | CaseResult:
    """Play a conversation case: what the evaluators see and the result so far, or the error result."""
    try:
        transcript = await run_conversation(case, spec, registry=registry, secret_key=secret_key)
    except Exception as exc:  # a malformed conversation must fail its case, not the run
        logger.exception("conversation case %s could not run", case.id)
        message = f"The conversation could not run: {type(exc).__name__}: {exc}"
        return replace(base, score_reason=message, error=message)
    calls = transcript.tool_calls
    tokens = transcript.tokens
    result = replace(
        base,
        agent_response=transcript.final_text,
        tool_calls_made=calls,
        latency_ms=round(transcript.latency_ms, 3),
        tokens_used=tokens,
        transcript=transcript.to_json(),
    )
    if transcript.error is not None:
        return replace(result, score_reason=f"The conversation stopped: {transcript.error}", error=transcript.error)
    user = (case.conversation or {}).get("simulated_user") or {}
    outcome = CaseOutcome(
        input=case.input_message,
        output=transcript.final_text,
        expected=case.expected_behavior,
        expected_tool_calls=_tool_calls(case.expected_tool_calls),
        tool_calls=[ToolCall(name=c["name"], arguments=c["arguments"]) for c in calls],
        latency_ms=transcript.latency_ms,
        tokens=tokens,
        messages=transcript.messages,
        turns=[t.to_json() for t in transcript.turns],
        goal=user.get("goal"),
        metrics=transcript.metrics(),
    )
    return outcome, result


def _pending(cases: Sequence[CaseSpec], repetitions: int, done: set[tuple[str, int]]) -> Iterator[tuple[CaseSpec, int]]:
    for case in cases:
        for rep in range(repetitions):
            if (case.id, rep) not in done:
                yield case, rep


class WatchFailedError(RuntimeError):
    """The run's watcher could not check for cancellation or renew the lease for too long."""


async def execute_run(
    run_id: uuid.UUID,
    *,
    sessionmaker: SessionFactory,
    secret_key: str,
    registry: ProviderRegistry,
    judge_cache: JudgeCache | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> str:
    """Run (or resume) a claimed run to its end; returns the final status.

    The workers and the watcher run in one task group: when one of them fails, the others are cancelled,
    finished results are stored and the run ends `failed` with the error. When the run itself is cancelled
    (shutdown), finished results are stored and the lease is left to lapse, so a restart resumes the rest.
    """
    async with sessionmaker() as session:
        started = await run_execution.start_execution(session=session, run_id=run_id)
        if started is None:
            return "missing"
        snapshot = started.snapshot
        run = RunIds(id=started.id, suite_id=started.suite_id, environment_id=started.environment_id)
        done = await run_execution.stored_result_keys(session=session, run_id=run_id)
        cancel_requested = started.cancel_requested
        await session.commit()
    if cancel_requested:
        await _finish(sessionmaker, run_id, RunStatus.CANCELLED)
        return RunStatus.CANCELLED
    try:
        prepared = prepare_run(run, snapshot, secret_key=secret_key, registry=registry, judge_cache=judge_cache)
    except Exception as exc:
        logger.exception("run %s cannot start", run_id)
        await _finish(sessionmaker, run_id, RunStatus.FAILED, error=f"The run could not start: {exc}")
        return RunStatus.FAILED
    ending = await run_pairs(
        _pending(snapshot.cases, snapshot.repetitions, done),
        run=prepared,
        sessionmaker=sessionmaker,
        registry=registry,
        lease=lease,
        concurrency=snapshot.concurrency,
    )
    status = RunStatus.FAILED if ending.error is not None else RunStatus(ending.status)
    await _finish(sessionmaker, run_id, status, error=ending.error)
    return status


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """A run ready to execute cases: which run, its decrypted instance spec and its built evaluators."""

    ids: RunIds
    spec: Any
    recipe: PreparedRecipe
    secret_key: str


def prepare_run(
    run: RunIds,
    snapshot: RunSnapshot,
    *,
    secret_key: str,
    registry: ProviderRegistry,
    judge_cache: JudgeCache | None,
) -> PreparedRun:
    """Decrypt the instance and build the evaluators once; raises when the snapshot cannot run."""
    spec = parse_spec(orjson.loads(decrypt_secret(snapshot.instance, secret_key)))
    recipe = prepare_recipe(
        snapshot.recipe,
        secret_key=secret_key,
        registry=registry,
        cache=judge_cache,
        use_cache=snapshot.use_judge_cache,
        tenant=str(run.environment_id),
    )
    return PreparedRun(ids=run, spec=spec, recipe=recipe, secret_key=secret_key)


@dataclass(frozen=True, slots=True)
class PairsEnding:
    """How `run_pairs` ended: `completed`, `cancelled` (asked to), `stopped` (the `stop` event) or with an error."""

    status: str
    error: str | None = None


async def run_pairs(
    pairs: Iterable[tuple[CaseSpec, int]],
    *,
    run: PreparedRun,
    sessionmaker: SessionFactory,
    registry: ProviderRegistry,
    lease: timedelta,
    concurrency: int,
    stop: asyncio.Event | None = None,
    slots: asyncio.Semaphore | None = None,
) -> PairsEnding:
    """Evaluate the (case, repetition) pairs with `concurrency` workers, every result stored before returning.

    `stop` set (a draining process) or the run's cancellation ends it after the cases in flight; `slots`, when
    given, bounds the cases in flight across every run of the process. A failing worker or watcher cancels the
    others and ends it with the error. When the caller is cancelled (shutdown), finished results are stored and
    the cancellation propagates.
    """
    pending = iter(pairs)
    writer = ResultWriter(sessionmaker, run.ids.id, lease=lease)
    cancelled = asyncio.Event()
    writer.start()

    def halted() -> bool:
        return cancelled.is_set() or (stop is not None and stop.is_set())

    async def evaluate(case: CaseSpec, rep: int) -> CaseResult:
        return await evaluate_case(
            case, rep, run=run.ids, spec=run.spec, recipe=run.recipe, registry=registry, secret_key=run.secret_key
        )

    async def worker() -> None:
        for case, rep in pending:
            if halted():
                return
            if slots is None:
                writer.add(await evaluate(case, rep))
                continue
            async with slots:
                if halted():
                    return
                writer.add(await evaluate(case, rep))

    try:
        async with asyncio.TaskGroup() as group:
            watcher = group.create_task(
                _watch(sessionmaker, run.ids.id, writer, cancelled, lease), name=f"watch-{run.ids.id}"
            )
            workers = [group.create_task(worker(), name=f"run-{run.ids.id}-worker-{n}") for n in range(concurrency)]
            if workers:
                await asyncio.wait(workers)
            watcher.cancel()
    except asyncio.CancelledError:
        # Shutting down: keep what is finished; the rest is resumed later.
        await asyncio.shield(writer.close())
        raise
    except BaseExceptionGroup as failures:  # a worker or the watcher raised; the others were cancelled
        first = failures.exceptions[0]
        logger.error("run %s failed", run.ids.id, exc_info=first)
        await writer.close()
        return PairsEnding(RunStatus.FAILED, error=str(first))
    await writer.close()
    if cancelled.is_set():
        return PairsEnding(RunStatus.CANCELLED)
    if stop is not None and stop.is_set():
        return PairsEnding("stopped")
    return PairsEnding(RunStatus.COMPLETED)


async def _watch(
    sessionmaker: SessionFactory, run_id: uuid.UUID, writer: ResultWriter, cancelled: asyncio.Event, lease: timedelta
) -> None:
    """Every half second, check whether the run was cancelled; renew the lease between flushes.

    A failing check is retried at the next tick; once it has failed for half the lease (another worker may
    soon take the run over), `WatchFailedError` ends the run.
    """
    renew_every = min(HEARTBEAT_SECONDS, lease.total_seconds() / 4)
    give_up_after = lease.total_seconds() / 2
    last_beat = last_ok = time.monotonic()
    while True:
        await asyncio.sleep(0.5)
        try:
            async with sessionmaker() as session:
                if await run_execution.is_cancel_requested(session=session, run_id=run_id):
                    cancelled.set()
                    return
            if time.monotonic() - last_beat > renew_every:
                await writer.heartbeat()
                last_beat = time.monotonic()
        except Exception as exc:
            failing_for = time.monotonic() - last_ok
            if failing_for >= give_up_after:
                raise WatchFailedError(
                    f"The run stopped: checking for cancellation and renewing its lease failed for "
                    f"{failing_for:.1f} s: {exc}"
                ) from exc
            logger.warning("run %s: checking for cancellation or renewing the lease failed: %s", run_id, exc)
            continue
        last_ok = time.monotonic()


async def _finish(
    sessionmaker: SessionFactory, run_id: uuid.UUID, status: RunStatus, *, error: str | None = None
) -> None:
    """Final status, authoritative counters and summary; the suite follows its latest run."""
    async with sessionmaker() as session:
        row = await run_execution.get_run_by_id(session=session, run_id=run_id)
        if row is None:
            return
        await record_end(session, row, status, error=error)
        await session.commit()


async def record_end(session: Session, row: RunRow, status: RunStatus, *, error: str | None = None) -> None:
    """Compute the summary with one query and store the run's end in the session's transaction (not committed)."""
    finished = utcnow()
    summary = await compute_summary(
        session,
        row.id,
        total_cases=row.total_cases,
        started_at=row.started_at,
        finished_at=finished,
        concurrency=(row.summary or {}).get("concurrency"),
    )
    await run_execution.record_finish(
        session=session, row=row, status=status, finished_at=finished, summary=summary, error=error
    )
    await run_execution.refresh_suite(session=session, suite_id=row.suite_id)
