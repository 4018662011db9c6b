"""Validation of inline recipe evaluators: built-in checks, `llm_judge`, `hog` and `python` configs.

`python` comes in two forms: with `function` it is trusted local code (`evaluators/python_eval.py`), valid in
suite files and `assay.evals`, which the HTTP API refuses before calling `validate_inline`; with `source` it is
code stored with the recipe and run in the server's sandbox (`evaluators/sandboxed_python.py`).

`validate_inline` returns the normalised config that is stored, or raises `InlineError` with the errors
(`loc` relative to the inline config). References to stored evaluators and provider keys are checked by
the caller, which can query the database.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assay.domain.evaluator_config import MAX_PYTHON_SOURCE_LENGTH
from assay.domain.providers import Provider
from assay.evaluators.checks import CHECK_TYPES, parse_check_config
from assay.evaluators.conversation_checks import CONVERSATION_CHECK_TYPES, parse_conversation_check
from assay.evaluators.python_eval import InlinePython
from assay.evaluators.rubrics import RUBRICS
from assay.evaluators.sandboxed_python import python_source_problem

INLINE_TYPES = ("llm_judge", "hog", "python", *sorted(CHECK_TYPES | CONVERSATION_CHECK_TYPES))


class InlineError(ValueError):
    """An invalid inline config; `errors` are `{loc, msg, type}` dicts with `loc` inside the config."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(e["msg"] for e in errors))
        self.errors = errors


class JudgeModel(BaseModel):
    """The judge's model; `provider_key_id` names one of the environment's provider keys."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider
    model: str = Field(min_length=1, max_length=100)
    provider_key_id: uuid.UUID | None = None
    base_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://[^\s/]+")
    """For an OpenAI-compatible server without a stored provider key."""


class InlineJudge(BaseModel):
    """An LLM judge: `prompt` None judges the output against the case's expected behaviour."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["llm_judge"]
    name: str | None = Field(default=None, max_length=200)
    prompt: str | None = Field(default=None, max_length=100_000)
    output_type: Literal["boolean", "numeric"] = "boolean"
    allows_na: bool = False
    model: JudgeModel | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    """Output cap of each judge call; None: ASSAY_JUDGE_MAX_TOKENS."""
    rubric: str | None = None
    """A built-in rubric over the conversation's `{{transcript}}` (goal_completion, on_task,
    knowledge_retention); it is the prompt when `prompt` is omitted."""

    @field_validator("rubric")
    @classmethod
    def _rubric(cls, value: str | None) -> str | None:
        if value is not None and value not in RUBRICS:
            raise ValueError(f"unknown rubric {value!r}; one of: {', '.join(RUBRICS)}")
        return value

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("prompt cannot be blank (omit it to judge against the expected behaviour)")
        return value


class InlineHog(BaseModel):
    """Hog code returning true/false, null (not applicable) or a number 0-100."""

    model_config = ConfigDict(extra="ignore")  # a read-back config carries `bytecode`: it is recompiled

    type: Literal["hog"]
    name: str | None = Field(default=None, max_length=200)
    source: str = Field(max_length=100_000)
    allows_na: bool = False

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("source cannot be empty")
        return value


class InlineSandboxedPython(BaseModel):
    """Python source defining `evaluate(input, output, **kwargs)`, run in the server's sandbox.

    A number it returns is a score out of `scale` that passes at `threshold` (0-1); None is not applicable.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["python"]
    name: str | None = Field(default=None, max_length=200)
    source: str = Field(max_length=MAX_PYTHON_SOURCE_LENGTH)
    allows_na: bool = False
    threshold: float = Field(default=0.5, ge=0, le=1)
    scale: Literal[1, 100] = 1

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        problem = python_source_problem(value) if value.strip() else "source cannot be empty"
        if problem is not None:
            raise ValueError(problem)
        return value


def _errors(exc: ValidationError, kind: Any) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = list(e["loc"])
        if loc and loc[0] == kind:  # the discriminated union's tag
            loc = loc[1:]
        out.append({"loc": loc, "msg": str(e["msg"]).removeprefix("Value error, "), "type": e["type"]})
    return out


def _compile_hog(source: str) -> list[Any]:
    from assay.hog import HogSyntaxError, compile_program

    try:
        return compile_program(source)
    except HogSyntaxError as exc:
        raise InlineError(
            [{"loc": ["source"], "msg": f"Failed to compile Hog code: {exc}", "type": "hog_syntax"}]
        ) from None
    except RecursionError:
        msg = "Failed to compile Hog code: the program is nested too deeply"
        raise InlineError([{"loc": ["source"], "msg": msg, "type": "hog_syntax"}]) from None


def validate_inline(config: dict[str, Any]) -> dict[str, Any]:
    """The normalised, storable form of an inline evaluator config (see the module doc)."""
    kind = config.get("type")
    try:
        if kind == "llm_judge":
            return InlineJudge.model_validate(config).model_dump(mode="json")
        if kind == "hog":
            hog = InlineHog.model_validate(config)
            return {**hog.model_dump(mode="json"), "bytecode": _compile_hog(hog.source)}
        if kind == "python" and "function" in config:
            return InlinePython.model_validate(config).model_dump(mode="json")
        if kind == "python":
            return InlineSandboxedPython.model_validate(config).model_dump(mode="json")
        if kind in CHECK_TYPES:
            return parse_check_config(config).model_dump(mode="json")
        if kind in CONVERSATION_CHECK_TYPES:
            return parse_conversation_check(config).model_dump(mode="json")
    except ValidationError as exc:
        raise InlineError(_errors(exc, kind)) from None
    except InlineError:
        raise
    except (ValueError, TypeError) as exc:
        raise InlineError([{"loc": [], "msg": str(exc), "type": "value_error"}]) from None
    choices = ", ".join(INLINE_TYPES)
    raise InlineError(
        [{"loc": ["type"], "msg": f"unknown evaluator type {kind!r}; one of: {choices}", "type": "value_error"}]
    )
