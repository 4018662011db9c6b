"""Saving online evaluations (evaluators): validation, config normalisation, Hog compilation, the model configuration.

The API and the web UI both save through here, so a change is accepted or refused the same way everywhere.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from assay.domain.evaluator_config import validate_conditions, validate_evaluation_configs
from assay.errors import ValidationFailed
from assay.evaluators.stored_evaluation import prepare_evaluator
from assay.sandbox.process import SandboxUnavailable
from assay.sandbox.shared import shared_pool
from assay.storage import evaluators as store
from assay.storage.db import Session
from assay.storage.tables import EvaluatorRow

CONFIG_FIELDS = frozenset({"evaluation_config", "output_config", "evaluation_type", "output_type"})


@dataclass(frozen=True, slots=True)
class ModelConfigurationInput:
    """The judge model an evaluation should use: provider, model and optionally a stored provider key."""

    provider: str
    model: str
    provider_key_id: uuid.UUID | None = None


async def save_evaluation(
    *,
    session: Session,
    environment_id: uuid.UUID,
    row: EvaluatorRow,
    fields: dict[str, Any],
    model_configuration: ModelConfigurationInput | None = None,
) -> EvaluatorRow:
    """Apply `fields` (the given writable fields) to a new or existing evaluation and commit.

    The configs are validated together only when all four config fields are given; conditions whenever
    given. The stored configs are normalised and Hog source compiled (`prepare_evaluator`) from the merge
    of the given fields and the row. A given model configuration replaces the old one.
    Raises `ValidationFailed` (a 400) on a bad config, bad conditions, an unknown or mismatched provider key.
    """
    fields = dict(fields)
    if CONFIG_FIELDS <= fields.keys():
        try:
            validate_evaluation_configs(
                fields["evaluation_type"], fields["output_type"], fields["evaluation_config"], fields["output_config"]
            )
        except ValueError as exc:
            raise ValidationFailed(str(exc), attr="config") from None
    if "conditions" in fields:
        try:
            validate_conditions(fields["conditions"])
        except ValueError as exc:
            raise ValidationFailed(str(exc), attr="conditions") from None
    merged = {
        "evaluation_type": fields.get("evaluation_type", row.evaluation_type),
        "output_type": fields.get("output_type", row.output_type),
        "evaluation_config": fields.get("evaluation_config", row.evaluation_config),
        "output_config": fields.get("output_config", row.output_config),
        "conditions": fields.get("conditions", row.conditions),
    }
    if merged["evaluation_type"] == "python" and not fields.get("deleted"):
        await require_sandbox()
    fields.update(prepare_evaluator(**merged))
    if model_configuration is not None:
        await _replace_model_configuration(model_configuration, row, session, environment_id)
    saved = await store.save_evaluator(session=session, row=row, fields=fields)
    await session.commit()
    return saved


async def require_sandbox() -> None:
    """Refuse Python evaluators unless the sandbox starts workers with every required layer.

    Raises `ValidationFailed` (a 400, code `sandbox_unavailable`) whose message names the missing layer.
    """
    try:
        await asyncio.to_thread(shared_pool().check)
    except SandboxUnavailable as exc:
        message = f"Python evaluators are unavailable on this server: {exc}. See `assay doctor`."
        raise ValidationFailed(message, attr="evaluation_type", code="sandbox_unavailable") from None


async def set_enabled(
    *, session: Session, environment_id: uuid.UUID, evaluation_id: uuid.UUID, enabled: bool
) -> EvaluatorRow:
    """Turn the evaluation's online runs on or off, as `PATCH {"enabled": …}` does; another environment's is not found."""
    row = await store.get_evaluator(
        session=session, environment_id=environment_id, evaluator_id=evaluation_id, include_deleted=True
    )
    return await save_evaluation(session=session, environment_id=environment_id, row=row, fields={"enabled": enabled})


async def _replace_model_configuration(
    config: ModelConfigurationInput, row: EvaluatorRow, session: Session, environment_id: uuid.UUID
) -> None:
    if config.provider_key_id is not None:
        key = await store.get_provider_key(
            session=session, environment_id=environment_id, key_id=config.provider_key_id
        )
        if key is None:
            raise ValidationFailed("Provider key not found", attr="model_configuration__provider_key_id")
        if key.provider != config.provider:
            raise ValidationFailed(
                f"Provider '{config.provider}' does not match key provider '{key.provider}'",
                attr="model_configuration__provider",
            )
    old_id = row.model_configuration_id
    new = await store.create_model_configuration(
        session=session,
        environment_id=environment_id,
        provider=config.provider,
        model=config.model,
        provider_key_id=config.provider_key_id,
    )
    row.model_configuration_id = new.id
    if old_id is not None:
        await store.delete_model_configuration(session=session, config_id=old_id)


async def create_evaluation(
    *,
    session: Session,
    environment_id: uuid.UUID,
    created_by_id: uuid.UUID | None,
    fields: dict[str, Any],
    model_configuration: ModelConfigurationInput | None = None,
) -> EvaluatorRow:
    """Create an evaluation from its writable fields (validated and saved as `save_evaluation` does) and commit."""
    row = EvaluatorRow(environment_id=environment_id, created_by_id=created_by_id)
    return await save_evaluation(
        session=session, environment_id=environment_id, row=row, fields=fields, model_configuration=model_configuration
    )


@dataclass(frozen=True, slots=True)
class HogProblem:
    """Where Hog source fails to compile (1-based line and column, when known) and why."""

    line: int | None
    column: int | None
    message: str


def hog_problems(source: str) -> list[HogProblem]:
    """The compile errors of Hog source (empty when it compiles), by the compiler saving uses."""
    from assay.hog import HogSyntaxError, compile_program

    try:
        compile_program(source)
    except HogSyntaxError as exc:
        return [HogProblem(line=exc.line, column=exc.column, message=exc.message)]
    except RecursionError:
        return [HogProblem(line=None, column=None, message="The program is nested too deeply")]
    return []
