"""What is stored when an LLM-analytics evaluation is saved: normalised configs, Hog source and condition
filters compiled to bytecode, Python source parsed (it runs only in the sandbox) (the configs themselves are validated by `assay.domain.evaluator_config`)."""

from __future__ import annotations

from typing import Any

from assay.domain.evaluator_config import MAX_HOG_SOURCE_LENGTH, validate_evaluation_configs
from assay.errors import ValidationFailed
from assay.evaluators.sandboxed_python import python_source_problem


def prepare_evaluator(
    *,
    evaluation_type: str,
    output_type: str,
    evaluation_config: dict[str, Any],
    output_config: dict[str, Any],
    conditions: list[Any],
) -> dict[str, Any]:
    """What is stored on save, as the original's `save()` does it.

    Configs are normalised when either is non-empty; Hog source is compiled into
    `evaluation_config.bytecode` (a compile error is a 400 on `evaluation_config`); every condition
    gets `bytecode` and `bytecode_error` compiled from its property filters.
    """
    if evaluation_config or output_config:
        try:
            evaluation_config, output_config = validate_evaluation_configs(
                evaluation_type, output_type, evaluation_config, output_config
            )
        except ValueError as exc:
            raise ValidationFailed(str(exc), attr="config") from None
    if evaluation_type == "hog" and isinstance(evaluation_config, dict) and evaluation_config.get("source"):
        evaluation_config = {**evaluation_config, "bytecode": compile_hog_source(evaluation_config["source"])}
    if evaluation_type == "python" and isinstance(evaluation_config, dict):
        problem = python_source_problem(str(evaluation_config.get("source") or ""))
        if problem is not None:
            raise ValidationFailed(problem, attr="evaluation_config")
    return {
        "evaluation_config": evaluation_config,
        "output_config": output_config,
        "conditions": [compile_condition(c) for c in conditions],
    }


def compile_hog_source(source: str) -> list[Any]:
    """Compile evaluation code, turning every failure into a validation error on `evaluation_config`."""
    from assay.hog import HogSyntaxError, compile_program

    if len(source) > MAX_HOG_SOURCE_LENGTH:
        raise ValidationFailed(
            f"Ensure this field has no more than {MAX_HOG_SOURCE_LENGTH} characters.", attr="evaluation_config"
        )
    try:
        return compile_program(source)
    except HogSyntaxError as exc:
        raise ValidationFailed(f"Failed to compile Hog code: {exc}", attr="evaluation_config") from None
    except RecursionError:
        raise ValidationFailed(
            "Failed to compile Hog code: the program is nested too deeply", attr="evaluation_config"
        ) from None


def compile_condition(condition: dict[str, Any]) -> dict[str, Any]:
    """A condition set with `bytecode` compiled from its property filters, or the reason in `bytecode_error`."""
    from assay.hog import compile_property_filters

    stored = {k: v for k, v in condition.items() if k not in ("bytecode", "bytecode_error")}
    try:
        return {
            **stored,
            "bytecode": compile_property_filters(condition.get("properties") or []),
            "bytecode_error": None,
        }
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        return {**stored, "bytecode": None, "bytecode_error": str(exc) or type(exc).__name__}
