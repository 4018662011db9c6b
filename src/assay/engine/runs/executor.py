"""Executing one run: cases x (call the instance -> apply each evaluator), results streamed to the writer."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import orjson

from assay.domain.outcomes import CaseOutcome, ToolCall, Verdict
from assay.domain.runs import AppliesTo, CaseResult, CaseSpec, RunRecipe
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
from assay.storage.db import SessionFactory
from assay.storage.ids import uuid7
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

    writer = ResultWriter(sessionmaker, run_id, lease=lease)
    cancelled = asyncio.Event()
    try:
        spec = parse_spec(orjson.loads(decrypt_secret(snapshot.instance, secret_key)))
        recipe = prepare_recipe(
            snapshot.recipe,
            secret_key=secret_key,
            registry=registry,
            cache=judge_cache,
            use_cache=snapshot.use_judge_cache,
            tenant=str(started.environment_id),
        )
    except Exception as exc:
        logger.exception("run %s cannot start", run_id)
        await _finish(sessionmaker, run_id, RunStatus.FAILED, error=f"The run could not start: {exc}")
        return RunStatus.FAILED

    pending = _pending(snapshot.cases, snapshot.repetitions, done)
    writer.start()

    async def worker() -> None:
        for case, rep in pending:
            if cancelled.is_set():
                return
            writer.add(
                await evaluate_case(
                    case, rep, run=run, spec=spec, recipe=recipe, registry=registry, secret_key=secret_key
                )
            )

    try:
        async with asyncio.TaskGroup() as group:
            watcher = group.create_task(_watch(sessionmaker, run_id, writer, cancelled, lease), name=f"watch-{run_id}")
            workers = [
                group.create_task(worker(), name=f"run-{run_id}-worker-{n}") for n in range(snapshot.concurrency)
            ]
            if workers:
                await asyncio.wait(workers)
            watcher.cancel()
    except asyncio.CancelledError:
        # Shutting down: keep what is finished; the lease lapses and a restart resumes the rest.
        await asyncio.shield(writer.close())
        raise
    except BaseExceptionGroup as failures:  # a worker or the watcher raised; the others were cancelled
        first = failures.exceptions[0]
        logger.error("run %s failed", run_id, exc_info=first)
        await writer.close()
        await _finish(sessionmaker, run_id, RunStatus.FAILED, error=str(first))
        return RunStatus.FAILED
    await writer.close()
    status = RunStatus.CANCELLED if cancelled.is_set() else RunStatus.COMPLETED
    await _finish(sessionmaker, run_id, status)
    return status


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
        finished = utcnow()
        summary = await compute_summary(
            session,
            run_id,
            total_cases=row.total_cases,
            started_at=row.started_at,
            finished_at=finished,
            concurrency=(row.summary or {}).get("concurrency"),
        )
        await run_execution.record_finish(
            session=session, row=row, status=status, finished_at=finished, summary=summary, error=error
        )
        await run_execution.refresh_suite(session=session, suite_id=row.suite_id)
        await session.commit()
