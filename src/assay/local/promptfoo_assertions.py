"""promptfoo assertions as Assay suite-file evaluators (built-in checks and LLM judges).

`map_assertion` turns one assertion (already rendered with its test's vars) into an evaluator item, or says why
it cannot be one. promptfoo passes a test only when every assertion passes, so every item is `required`; the
assertion's `weight` and `metric` become the item's weight and name. `parse_inline_assertion` reads the
`type: value` strings of a tests CSV's `__expected` columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from assay.evaluators.recipe_items import InlineError, validate_inline

CODE_TYPES = frozenset({"javascript", "python", "webhook", "ruby"})
TEXT_CASE = {"contains": True, "icontains": False}
LIST_TYPES = {
    "contains-any": ("any", True),
    "contains-all": ("all", True),
    "icontains-any": ("any", False),
    "icontains-all": ("all", False),
}
NEGATED_LIST_MODE = {"any": "all", "all": "any"}
"""not-contains-any passes when none appears (not_contains `all`); not-contains-all when one is missing (`any`)."""

JUDGE_PROMPTS = {
    "llm-rubric": "Judge the reply against this rubric:\n{value}",
    "model-graded-closedqa": "Does the reply meet this criterion?\n{value}",
    "factuality": "Is the reply consistent with this reference answer (it may add detail, but must not "
    "contradict it)?\n{value}",
    "similar": "Does the reply mean the same as this reference text?\n{value}",
    "answer-relevance": "Is the reply relevant to the user's message and does it answer it?",
}
JUDGE_FRAME = "{criterion}\n\nThe user's message:\n{{{{input}}}}\n\nThe reply:\n{{{{output}}}}"
JUDGE_NOTES = {
    "similar": "judged by an LLM for the same meaning instead of an embedding similarity",
    "factuality": "judged pass/fail by an LLM instead of promptfoo's graded categories",
}

INLINE_PREFIXES = {"grade": "llm-rubric", "fn": "javascript", "eval": "javascript"}
KNOWN_TYPES = frozenset(
    {
        "equals",
        "contains",
        "icontains",
        *LIST_TYPES,
        "regex",
        "starts-with",
        "is-json",
        "contains-json",
        "latency",
        "cost",
        *JUDGE_PROMPTS,
        *CODE_TYPES,
        "levenshtein",
        "rouge-n",
        "bleu",
        "perplexity",
        "classifier",
        "moderation",
        "is-valid-openai-tools-call",
        "is-valid-openai-function-call",
        "is-sql",
        "is-xml",
        "contains-sql",
        "contains-xml",
        "is-html",
        "contains-html",
        "g-eval",
        "select-best",
        "human",
        "finish-reason",
        "tool-call-f1",
        "assert-set",
    }
)


@dataclass(frozen=True, slots=True)
class Mapped:
    """An assertion as an evaluator item; `note` says how it differs from the promptfoo assertion, if it does."""

    item: dict[str, Any]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class NotMapped:
    """Why an assertion has no Assay evaluator."""

    why: str


def _regex_literal(text: str) -> str:
    """`text` as an RE2 pattern matching it literally (only the metacharacters escaped)."""
    return "".join("\\" + c if c in "\\.^$|?*+()[]{}" else c for c in text)


def _values(value: Any) -> list[str] | None:
    if isinstance(value, str):
        parts = [v.strip() for v in value.split(",")]
        return [p for p in parts if p] or None
    if isinstance(value, list) and value and all(isinstance(v, str | int | float) for v in value):
        return [str(v) for v in value]
    return None


def judge_model_for(provider: Any) -> dict[str, Any] | None:
    """An Assay judge model for promptfoo's grading `provider` (OpenAI models only), else None."""
    if isinstance(provider, dict):
        provider = provider.get("id")
    if not isinstance(provider, str):
        return None
    parts = provider.split(":")
    if parts[0] != "openai" or len(parts) < 2:
        return None
    return {"provider": "openai", "model": parts[-1]}


def _text_check(base: str, negated: bool, value: Any) -> dict[str, Any] | NotMapped:
    """The check of equals and the contains family."""
    if base == "equals":
        if isinstance(value, dict | list) or value is None:
            return NotMapped("a JSON value: Assay's equals compares text")
        if negated:
            return {"type": "regex", "pattern": _regex_literal(str(value)), "fullmatch": True, "negate": True}
        return {"type": "equals", "value": str(value)}
    if base in TEXT_CASE:
        if not isinstance(value, str | int | float) or value == "":
            return NotMapped("needs a text value")
        return {
            "type": "not_contains" if negated else "contains",
            "value": str(value),
            "case_sensitive": TEXT_CASE[base],
        }
    if base in LIST_TYPES:
        mode, sensitive = LIST_TYPES[base]
        values = _values(value)
        if values is None:
            return NotMapped("needs a list of text values")
        kind = "not_contains" if negated else "contains"
        return {
            "type": kind,
            "value": values,
            "mode": NEGATED_LIST_MODE[mode] if negated else mode,
            "case_sensitive": sensitive,
        }
    return NotMapped("no Assay check")


def _check(base: str, negated: bool, value: Any, threshold: Any) -> dict[str, Any] | NotMapped:
    """The built-in check of a deterministic assertion type (without `not-`)."""
    if base == "equals" or base in TEXT_CASE or base in LIST_TYPES:
        return _text_check(base, negated, value)
    if base == "regex":
        if not isinstance(value, str) or not value:
            return NotMapped("needs a pattern")
        return {"type": "regex", "pattern": value, "negate": negated}
    if base == "starts-with":
        if not isinstance(value, str) or not value:
            return NotMapped("needs a text value")
        return {"type": "regex", "pattern": "^" + _regex_literal(value), "negate": negated}
    if base == "is-json":
        if negated:
            return NotMapped("Assay's JSON check cannot be inverted")
        if value is not None and not isinstance(value, dict):
            return NotMapped("the schema is not an inline JSON schema object")
        return {"type": "json_schema", "schema": value or {}}
    if base == "latency":
        if negated:
            return NotMapped("no Assay equivalent")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0:
            return NotMapped("needs a positive threshold (milliseconds)")
        return {"type": "latency_budget", "max_ms": float(threshold)}
    return NotMapped("no Assay check")


def _why_not(base: str, negated: bool) -> str | None:
    if base in CODE_TYPES:
        return "runs user code that Assay does not execute; rewrite it as a Hog evaluator"
    if base == "cost":
        return "Assay budgets tokens (token_budget), not money"
    if base == "contains-json":
        return "Assay's JSON check reads the whole output (or one fenced block), not JSON inside text"
    if base == "assert-set":
        return "grouped assertions with their own threshold have no Assay equivalent"
    if negated and base in JUDGE_PROMPTS:
        return "an inverted judge has no Assay equivalent; rephrase the rubric instead"
    if base not in KNOWN_TYPES:
        return "unknown assertion type"
    if base not in JUDGE_PROMPTS and base not in (
        "equals",
        "contains",
        "icontains",
        "regex",
        "starts-with",
        "is-json",
        "latency",
        *LIST_TYPES,
    ):
        return "no Assay equivalent"
    return None


def map_assertion(assertion: dict[str, Any], *, judge_model: dict[str, Any] | None = None) -> Mapped | NotMapped:
    """The evaluator item for one promptfoo assertion, or why there is none (see the module docstring)."""
    kind = assertion.get("type")
    if not isinstance(kind, str) or not kind:
        return NotMapped("an assertion without a type")
    negated = kind.startswith("not-")
    base = kind[4:] if negated else kind
    reason = _why_not(base, negated)
    if reason is not None:
        return NotMapped(reason)
    for key in ("transform", "contextTransform", "rubricPrompt"):
        if key in assertion:
            return NotMapped(f"{key}: Assay evaluators read the output as it is")
    weight = assertion.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        return NotMapped(f"weight {weight!r}: Assay weights must be above 0")
    value = assertion.get("value")
    if isinstance(value, str) and value.startswith("file://"):
        return NotMapped(f"a value read from {value} is not imported")
    notes: list[str] = []
    config: dict[str, Any]
    if base in JUDGE_PROMPTS:
        if base != "answer-relevance" and (not isinstance(value, str) or not value.strip()):
            return NotMapped("needs a text value")
        criterion = JUDGE_PROMPTS[base].format(value=value)
        config = {"type": "llm_judge", "prompt": JUDGE_FRAME.format(criterion=criterion)}
        model = judge_model_for(assertion.get("provider")) if "provider" in assertion else judge_model
        if "provider" in assertion and model is None:
            notes.append(f"grading provider {assertion['provider']!r} replaced by the default judge")
        if model is not None:
            config["model"] = model
        if base in JUDGE_NOTES:
            notes.append(JUDGE_NOTES[base])
        if "threshold" in assertion:
            notes.append(f"threshold {assertion['threshold']} not used: the judge answers pass or fail")
    else:
        built = _check(base, negated, value, assertion.get("threshold"))
        if isinstance(built, NotMapped):
            return built
        config = built
        if base == "is-json":
            notes.append("a ```json fenced block also counts as JSON")
    if isinstance(assertion.get("metric"), str) and assertion["metric"].strip():
        config["name"] = assertion["metric"].strip()[:200]
    try:
        validate_inline(dict(config))
    except InlineError as exc:
        return NotMapped(str(exc))
    item = {**config, "weight": float(weight), "required": True}
    return Mapped(item, "; ".join(notes) or None)


def parse_inline_assertion(text: str) -> dict[str, Any]:
    """A CSV `__expected` cell as an assertion: `type: value` (`grade:` is llm-rubric, `fn:` javascript), else equals."""
    head, sep, rest = text.partition(":")
    name = head.strip()
    threshold = None
    if "(" in name and name.endswith(")"):
        name, _, raw = name[:-1].partition("(")
        try:
            threshold = float(raw)
        except ValueError:
            return {"type": "equals", "value": text}
    name = INLINE_PREFIXES.get(name, name)
    base = name[4:] if name.startswith("not-") else name
    if not sep or base not in KNOWN_TYPES:
        return {"type": "equals", "value": text}
    value: Any = rest.strip()
    if base == "is-json" and value:
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            pass
    assertion: dict[str, Any] = {"type": name}
    if base == "latency":
        try:
            assertion["threshold"] = float(value)
        except ValueError:
            assertion["threshold"] = value
    elif value != "":
        assertion["value"] = value
    if threshold is not None:
        assertion["threshold"] = threshold
    return assertion
