"""Evaluators for `evaluate`: built-in checks by name, LLM judges, Hog code and Python functions.

Each factory returns an `Evaluator`: an inline config as a suite file holds it, with its weight and whether it
is required. `evaluate` also takes the raw forms: a check's name (`"tool_call_match"`), a suite-file dict
(`{"type": "contains", "value": "refund", "weight": 2}`) or a Python callable (a `python` evaluator).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from assay.evaluators.recipe_items import InlineError
from assay.local.suitefile import recipe_item
from assay.trusted_code import register_callable


@dataclass(frozen=True, slots=True)
class Evaluator:
    """One recipe item: an inline evaluator config, its weight and whether the case fails when it fails."""

    config: dict[str, Any]
    weight: float = 1.0
    required: bool = False

    def item(self) -> dict[str, Any]:
        """The validated recipe item (ValueError naming the problem otherwise)."""
        raw = {**self.config, "weight": self.weight, "required": self.required}
        try:
            item = recipe_item(raw)
        except InlineError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors)
            raise ValueError(f"invalid evaluator {self.config.get('type')!r}: {problems}") from None
        if item is None:  # `if_env` named an unset variable
            raise ValueError(f"evaluator {self.config.get('type')!r} is skipped by if_env")
        return item


EvaluatorLike = Evaluator | str | dict[str, Any] | Callable[..., Any]
"""What `evaluate(evaluators=[...])` takes."""


def check(kind: str, *, weight: float = 1.0, required: bool = False, **config: Any) -> Evaluator:
    """A built-in check: `check("contains", value="refund")`, `check("tool_call_match", arguments="subset")`."""
    return Evaluator({"type": kind, **config}, weight, required)


def judge(
    prompt: str | None = None,
    *,
    model: str | dict[str, Any] | None = None,
    base_url: str | None = None,
    output_type: Literal["boolean", "numeric"] = "boolean",
    name: str | None = None,
    weight: float = 1.0,
    required: bool = False,
    **config: Any,
) -> Evaluator:
    """An LLM judge. `prompt` None judges the output against the case's expected behaviour.

    `model` is `provider/model` or `{provider, model, base_url}` (None: ASSAY_JUDGE_MODEL); `base_url` points
    an OpenAI-compatible model at a server of your own.
    """
    entry: dict[str, Any] = {"type": "llm_judge", "prompt": prompt, "output_type": output_type, **config}
    if name:
        entry["name"] = name
    if model is not None:
        if isinstance(model, str):
            provider, _, rest = model.partition("/")
            model = {"provider": provider, "model": rest} if rest else {"provider": "openai", "model": model}
        entry["model"] = {**model, **({"base_url": base_url} if base_url else {})}
    return Evaluator(entry, weight, required)


def hog(source: str, *, name: str | None = None, weight: float = 1.0, required: bool = False) -> Evaluator:
    """Hog code returning true/false, null (not applicable) or a score 0-100."""
    return Evaluator({"type": "hog", "source": source, **({"name": name} if name else {})}, weight, required)


def python(
    function: Callable[..., Any] | str,
    *,
    scale: Literal["unit", "percent"] = "unit",
    timeout_s: float = 30.0,
    name: str | None = None,
    weight: float = 1.0,
    required: bool = False,
) -> Evaluator:
    """A Python function (or `module:function`) as an evaluator; see `assay.evaluators.python_eval`.

    It gets `(case, outcome)` or `outcome`, may be async, and returns a bool, a number on `scale`
    (`unit` 0-1, `percent` 0-100), `(score, reason)`, a dict or a `Verdict`.
    """
    target = function if isinstance(function, str) else register_callable(function)
    shown = name or (function.rpartition(":")[2] if isinstance(function, str) else _name_of(function))
    config = {"type": "python", "function": target, "scale": scale, "timeout_s": timeout_s, "name": shown}
    return Evaluator(config, weight, required)


def _name_of(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return "python" if name == "<lambda>" else name


def to_evaluator(value: EvaluatorLike) -> Evaluator:
    """An `Evaluator` from any form `evaluate` takes."""
    if isinstance(value, Evaluator):
        return value
    if isinstance(value, str):
        return check(value)
    if isinstance(value, dict):
        config = dict(value)
        weight = config.pop("weight", 1.0)
        required = config.pop("required", False)
        return Evaluator(config, weight, required)
    if callable(value):
        return python(value)
    raise TypeError(f"an evaluator is a check name, a dict, a callable or an Evaluator; got {type(value).__name__}")


__all__ = ["Evaluator", "EvaluatorLike", "check", "hog", "judge", "python", "to_evaluator"]
