"""Evaluating one event with one evaluator, as PostHog's `run-evaluation` workflow does (behaviour reference §4.2).

The event may also be a whole trace or session (`domain/trace_subject.py`): its assembled transcript in
`$ai_input_state`/`$ai_output_state`, named `$ai_trace` or `$ai_session`. `hog` runs the evaluator's bytecode; a runtime error fails the run and emits nothing. `python` (an Assay
extension) runs the evaluator's source in the sandbox pool, with the same outcomes as `hog`. `llm_judge` runs the
PostHog judge on the event's input/output; key, parse and configuration problems skip the run and emit
nothing. A successful run yields the `$ai_evaluation` event (§4.6), stored by the caller with the outcome.
Every failed or skipped outcome names its `cause`; a judge failure that may pass on another try (a provider
error or timeout) is `retryable`, as PostHog's judge activity retry policy treats it. Hog failures are
deterministic and never retryable. The evaluator's `enabled`/`deleted` flags are not re-checked: a queued
run always runs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from assay.domain.ai_events import EVALUATION, JudgeUsage, build_evaluation_event_properties
from assay.domain.events import NormalizedEvent
from assay.domain.messages import extract_event_io, extract_text_from_messages
from assay.domain.secrets import SecretDecryptionError
from assay.domain.statuses import EvaluationRunStatus
from assay.domain.trace_subject import SESSION_TARGET
from assay.engine.runs.snapshot import server_judge
from assay.errors import ResourceNotFound
from assay.evaluators.hog_eval import run_hog_eval_async
from assay.evaluators.judge_cache import JudgeCache
from assay.evaluators.judge_endpoint import ProviderKeyCredentials, resolve_judge_endpoint
from assay.evaluators.posthog_judge import run_llm_judge
from assay.evaluators.sandboxed_python import run_python_eval
from assay.evaluators.structured_judge import JudgeError
from assay.providers import EndpointConfig, ProviderRegistry
from assay.settings import Settings
from assay.storage.db import SessionFactory
from assay.storage.ids import uuid7
from assay.storage.online import EvaluationRunOutcome
from assay.storage.provider_keys import load_provider_key
from assay.storage.types import utcnow

EVALUATION_TYPE = "online"
"""`$ai_evaluation_type` of every run, manual ones included: PostHog's workflow emits the same value for both."""

SKIPPED_JUDGE_ERRORS = frozenset({"parse_error", "key_invalid", "key_not_found", "trial_limit_reached", "no_judge"})
"""Judge error types that skip the run silently (no event), as the original's trial/key/parse handling."""

KEY_STATE_ERRORS = {"auth_error": "invalid", "permission_error": "error", "quota_error": "error", "rate_limit": "error"}
"""BYOK failures that mark the provider key (auth → invalid, others → error) and fail the run."""

USABLE_KEY_STATES = frozenset({"ok", "unknown"})


@dataclass(frozen=True, slots=True)
class EvaluatorSpec:
    """What a run needs of an evaluator, copied out of its row."""

    id: uuid.UUID
    environment_id: uuid.UUID
    name: str
    evaluation_type: str
    evaluation_config: dict[str, Any]
    output_type: str
    output_config: dict[str, Any]
    model: dict[str, Any] | None
    deleted: bool = False

    @property
    def allows_na(self) -> bool:
        return bool((self.output_config or {}).get("allows_na", False))


@dataclass(frozen=True, slots=True)
class TargetEvent:
    """The evaluated event."""

    uuid: uuid.UUID
    event: str
    distinct_id: str
    properties: dict[str, Any]

    @property
    def trace_id(self) -> str | None:
        value = self.properties.get("$ai_trace_id")
        return None if value in (None, "") else str(value)


@dataclass(frozen=True, slots=True)
class OnlineContext:
    """Shared resources of the evaluating process."""

    sessionmaker: SessionFactory
    settings: Settings
    registry: ProviderRegistry | None = None
    judge_cache: JudgeCache | None = None


@dataclass(frozen=True, slots=True)
class _Judge:
    endpoint: EndpointConfig
    key_id: uuid.UUID | None


class _Skip(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


async def _resolve_judge(ctx: OnlineContext, spec: EvaluatorSpec) -> _Judge:
    """The judge endpoint: the provider key of the model configuration, else ASSAY_JUDGE_MODEL's key and URL."""
    model = spec.model
    credentials = None
    key_row_id = None
    key_id = model.get("provider_key_id") if model else None
    if key_id:
        async with ctx.sessionmaker() as session:
            try:
                row, api_key = await load_provider_key(
                    session=session,
                    environment_id=spec.environment_id,
                    key_id=uuid.UUID(str(key_id)),
                    secret_key=ctx.settings.secret_key,
                )
            except ResourceNotFound:
                raise _Skip("key_not_found", "The evaluation's provider key does not exist.") from None
            except SecretDecryptionError as e:
                raise _Skip("key_invalid", str(e)) from None
            if row.state not in USABLE_KEY_STATES:
                raise _Skip("key_invalid", f"Your API key is {row.state}. Please fix or replace it.")
            row.last_used_at = utcnow()
            await session.commit()
        key_row_id = row.id
        credentials = ProviderKeyCredentials(
            row.provider, row.base_url, api_key, rpm=row.requests_per_minute, tpm=row.tokens_per_minute
        )
    endpoint = resolve_judge_endpoint(
        model,
        default=server_judge(ctx.settings),
        provider_key=credentials,
        concurrency=ctx.settings.run_concurrency,
        require_served_provider=True,
    )
    if endpoint is None:
        if not model:
            message = "No judge model is configured: set ASSAY_JUDGE_MODEL or give a model configuration."
            raise _Skip("no_judge", message)
        provider = str(model.get("provider") or "openai")
        raise _Skip("no_judge", f"No key for provider {provider!r}: add a provider key or set ASSAY_JUDGE_MODEL.")
    return _Judge(endpoint, key_row_id)


async def _mark_key(ctx: OnlineContext, spec: EvaluatorSpec, key_id: uuid.UUID, error: JudgeError) -> None:
    async with ctx.sessionmaker() as session:
        try:
            row, _ = await load_provider_key(
                session=session, environment_id=spec.environment_id, key_id=key_id, secret_key=ctx.settings.secret_key
            )
        except (ResourceNotFound, SecretDecryptionError):
            return
        row.state = KEY_STATE_ERRORS[error.error_type]
        row.error_message = error.message
        await session.commit()


def _event(spec: EvaluatorSpec, target: TargetEvent, properties: dict[str, Any]) -> NormalizedEvent:
    return NormalizedEvent(
        uuid=str(uuid7()),
        event=EVALUATION,
        distinct_id=target.distinct_id,
        timestamp=utcnow(),
        properties=properties,
        trace_id=target.trace_id,
    )


def _failed(
    workflow_id: str, spec: EvaluatorSpec, cause: str, error: str, *, retryable: bool = False
) -> EvaluationRunOutcome:
    return EvaluationRunOutcome(
        workflow_id, spec.environment_id, EvaluationRunStatus.FAILED, error=error, cause=cause, retryable=retryable
    )


def _completed(
    workflow_id: str,
    spec: EvaluatorSpec,
    target: TargetEvent,
    start: datetime,
    outcome: dict[str, Any],
    judge: JudgeUsage | None,
    runtime: Literal["llm_judge", "hog", "python"] = "hog",
) -> EvaluationRunOutcome:
    allows_na = spec.allows_na
    applicable = outcome.get("applicable") if allows_na else None
    props = build_evaluation_event_properties(
        evaluation_id=spec.id,
        evaluation_name=spec.name,
        runtime="llm_judge" if judge is not None else runtime,
        start_time=start,
        allows_na=allows_na,
        reasoning=outcome.get("reasoning") or "",
        target_event_id=target.uuid,
        target_event_type=target.event,
        trace_id=target.trace_id,
        result=outcome.get("verdict"),
        applicable=applicable,
        evaluation_type=EVALUATION_TYPE,
        judge=judge,
    )
    if target.event == SESSION_TARGET:
        props["$ai_session_id"] = target.properties.get("$ai_session_id")
    result = {"verdict": outcome.get("verdict"), "reasoning": outcome.get("reasoning") or ""}
    if allows_na:
        result["applicable"] = applicable
    return EvaluationRunOutcome(
        workflow_id,
        spec.environment_id,
        EvaluationRunStatus.COMPLETED,
        result=result,
        event=_event(spec, target, props),
    )


async def _run_hog(workflow_id: str, spec: EvaluatorSpec, target: TargetEvent, start: datetime) -> EvaluationRunOutcome:
    bytecode = (spec.evaluation_config or {}).get("bytecode")
    if not bytecode:
        return _failed(workflow_id, spec, "missing_bytecode", "Missing bytecode in evaluation_config")
    event = {
        "uuid": str(target.uuid),
        "event": target.event,
        "properties": target.properties,
        "distinct_id": target.distinct_id,
    }
    outcome = await run_hog_eval_async(bytecode, event, spec.allows_na)
    if outcome.get("error"):
        return _failed(workflow_id, spec, "hog_error", f"Hog evaluation error: {outcome['error']}")
    return _completed(workflow_id, spec, target, start, outcome, None)


async def _run_python(
    workflow_id: str, spec: EvaluatorSpec, target: TargetEvent, start: datetime
) -> EvaluationRunOutcome:
    config = spec.evaluation_config or {}
    source = config.get("source")
    if not source:
        return _failed(workflow_id, spec, "missing_source", "Missing source in evaluation_config")
    event = {
        "uuid": str(target.uuid),
        "event": target.event,
        "properties": target.properties,
        "distinct_id": target.distinct_id,
    }
    outcome = await run_python_eval(
        tenant=str(spec.environment_id),
        source=str(source),
        event=event,
        allows_na=spec.allows_na,
        threshold=float(config.get("threshold", 0.5)),
        scale=float(config.get("scale", 1)),
    )
    if outcome.get("error"):
        cause = "sandbox_unavailable" if outcome.get("kind") == "unavailable" else "python_error"
        return _failed(workflow_id, spec, cause, f"Python evaluation error: {outcome['error']}")
    return _completed(workflow_id, spec, target, start, outcome, None, runtime="python")


async def _run_judge(
    ctx: OnlineContext, workflow_id: str, spec: EvaluatorSpec, target: TargetEvent, start: datetime
) -> EvaluationRunOutcome:
    prompt = (spec.evaluation_config or {}).get("prompt")
    if not prompt:
        return _failed(workflow_id, spec, "missing_prompt", "Missing prompt in evaluation_config")
    if spec.output_type != "boolean":
        message = f"Unsupported output type: {spec.output_type}. Supported types: 'boolean'."
        return _failed(workflow_id, spec, "unsupported_output_type", message)
    try:
        judge = await _resolve_judge(ctx, spec)
    except _Skip as skip:
        return _skipped(workflow_id, spec, skip.reason, skip.message)
    input_raw, output_raw = extract_event_io(target.event, target.properties)
    try:
        answer = await run_llm_judge(
            prompt=str(prompt),
            input_text=extract_text_from_messages(input_raw),
            output_text=extract_text_from_messages(output_raw),
            endpoint=judge.endpoint,
            allows_na=spec.allows_na,
            registry=ctx.registry,
            cache=ctx.judge_cache,
            max_tokens=ctx.settings.judge_max_tokens,
        )
    except JudgeError as e:
        if e.error_type in SKIPPED_JUDGE_ERRORS:
            return _skipped(workflow_id, spec, e.error_type, e.message)
        retryable = e.retryable
        if judge.key_id is not None and e.error_type in KEY_STATE_ERRORS:
            await _mark_key(ctx, spec, judge.key_id, e)
            retryable = False  # the key is marked unusable until someone fixes it
        return _failed(workflow_id, spec, e.error_type, f"{e.error_type}: {e.message}", retryable=retryable)
    usage = JudgeUsage(
        model=answer.model,
        provider=answer.provider,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
        key_type="byok" if judge.key_id is not None else "posthog",
        key_id=str(judge.key_id) if judge.key_id is not None else None,
    )
    outcome = {"verdict": answer.verdict, "reasoning": answer.reasoning, "applicable": answer.applicable}
    return _completed(workflow_id, spec, target, start, outcome, usage)


def _skipped(workflow_id: str, spec: EvaluatorSpec, reason: str, message: str) -> EvaluationRunOutcome:
    result = {
        "verdict": None,
        "skipped": True,
        "skip_reason": reason,
        "message": message,
        "evaluation_id": str(spec.id),
        "evaluation_type": spec.evaluation_type,
    }
    return EvaluationRunOutcome(
        workflow_id, spec.environment_id, EvaluationRunStatus.SKIPPED, result=result, error=message, cause=reason
    )


async def evaluate_event(
    ctx: OnlineContext, *, workflow_id: str, spec: EvaluatorSpec, target: TargetEvent, start: datetime
) -> EvaluationRunOutcome:
    """Run `spec` on `target`; never raises for evaluation problems (they become failed/skipped outcomes)."""
    if spec.evaluation_type == "hog":
        return await _run_hog(workflow_id, spec, target, start)
    if spec.evaluation_type == "llm_judge":
        return await _run_judge(ctx, workflow_id, spec, target, start)
    if spec.evaluation_type == "python":
        return await _run_python(workflow_id, spec, target, start)
    message = f"Unsupported evaluation type: {spec.evaluation_type}"
    return _failed(workflow_id, spec, "unsupported_evaluation_type", message)
