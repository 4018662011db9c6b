"""Built-in deterministic checks: config models and `run_check`.

Every config is a pydantic model with `extra="forbid"`, discriminated on `type`. Expensive
preparation (regex compilation, JSON-schema validator construction) happens once, when the
config is validated, so `run_check` costs a few microseconds per case.

Scores are in [0, 1]. A check that has nothing to compare against (no expected value, no
expected tool calls, no measured latency or token count) returns `not_applicable`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
from jsonschema.exceptions import SchemaError, ValidationError
from jsonschema.validators import extend, validator_for
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter, ValidationInfo, field_validator
from referencing import Registry

from assay.domain.outcomes import CaseOutcome, ToolCall, Verdict
from assay.domain.user_regex import RegexBudgetError, UserRegex, UserRegexError, budget_for, compile_user_regex

MAX_PATTERN_LENGTH = 1000
"""Longest regex pattern accepted."""

MAX_REGEX_SUBJECT = 200_000
"""Regex checks look at no more than this many leading characters of the output."""

_WS = re.compile(r"\s+")
_FENCE = re.compile(r"^```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\r?\n(.*?)\r?\n?```\s*$", re.DOTALL)


class _CheckBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, max_length=200, description="Label used in verdicts; defaults to `type`.")

    @property
    def label(self) -> str:
        return self.name or self.type  # type: ignore[attr-defined]

    def _verdict(self, passed: bool, score: float, reason: str, **details: Any) -> Verdict:
        return Verdict(
            evaluator=self.label,
            status="passed" if passed else "failed",
            score=score,
            passed=passed,
            reason=reason,
            details=details,
        )

    def may_block(self, outcome: CaseOutcome) -> bool:
        """Whether running on `outcome` could take long enough to be worth a worker thread."""
        return False

    def _na(self, reason: str) -> Verdict:
        return Verdict(evaluator=self.label, status="not_applicable", score=None, passed=None, reason=reason)


def _clip(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


class _TextOptions(_CheckBase):
    case_sensitive: bool = True
    strip: bool = Field(default=True, description="Ignore leading and trailing whitespace.")
    normalize_whitespace: bool = Field(default=False, description="Collapse every run of whitespace to one space.")

    def _norm(self, text: str) -> str:
        if self.normalize_whitespace:
            text = _WS.sub(" ", text).strip()
        elif self.strip:
            text = text.strip()
        if not self.case_sensitive:
            text = text.casefold()
        return text


class EqualsCheck(_TextOptions):
    """The output equals `value`, or the case's expected output when `value` is omitted."""

    type: Literal["equals"] = "equals"
    value: str | None = None

    def run(self, outcome: CaseOutcome) -> Verdict:
        target = self.value if self.value is not None else outcome.expected
        if target is None:
            return self._na("No value to compare with: the check has no `value` and the case has no expected output.")
        if self._norm(outcome.output) == self._norm(target):
            return self._verdict(True, 1.0, f"Output equals {_clip(target)}.")
        return self._verdict(False, 0.0, f"Output {_clip(outcome.output)} does not equal {_clip(target)}.")


class _ContainsBase(_CheckBase):
    value: str | list[str] = Field(description="One substring, or a list of them.")
    mode: Literal["all", "any"] = Field(default="all", description="With a list: whether all or any must match.")
    case_sensitive: bool = True

    @field_validator("value")
    @classmethod
    def _non_empty(cls, v: str | list[str]) -> str | list[str]:
        values = [v] if isinstance(v, str) else v
        if not values:
            raise ValueError("give at least one value")
        if any(x == "" for x in values):
            raise ValueError("values must be non-empty strings")
        return v

    def _found(self, output: str) -> tuple[list[str], list[str]]:
        values = [self.value] if isinstance(self.value, str) else self.value
        hay = output if self.case_sensitive else output.casefold()
        found: list[str] = []
        missing: list[str] = []
        for v in values:
            (found if (v if self.case_sensitive else v.casefold()) in hay else missing).append(v)
        return found, missing


class ContainsCheck(_ContainsBase):
    """The output contains the value (all of the list, or any of it with `mode: any`)."""

    type: Literal["contains"] = "contains"

    def run(self, outcome: CaseOutcome) -> Verdict:
        found, missing = self._found(outcome.output)
        total = len(found) + len(missing)
        if self.mode == "any":
            if found:
                return self._verdict(True, 1.0, f"Output contains {_clip(found[0])}.", found=found)
            return self._verdict(False, 0.0, f"Output contains none of {missing!r}.", missing=missing)
        if not missing:
            return self._verdict(True, 1.0, f"Output contains {', '.join(map(_clip, found))}.", found=found)
        return self._verdict(
            False,
            len(found) / total,
            f"Output is missing {', '.join(map(_clip, missing))}.",
            found=found,
            missing=missing,
        )


class NotContainsCheck(_ContainsBase):
    """The output contains none of the values (`mode: all`), or lacks at least one of them (`mode: any`)."""

    type: Literal["not_contains"] = "not_contains"

    def run(self, outcome: CaseOutcome) -> Verdict:
        found, missing = self._found(outcome.output)
        total = len(found) + len(missing)
        if self.mode == "any":
            if missing:
                return self._verdict(True, 1.0, f"Output does not contain {_clip(missing[0])}.", absent=missing)
            return self._verdict(False, 0.0, f"Output contains every one of {found!r}.", present=found)
        if not found:
            return self._verdict(True, 1.0, "Output contains none of the forbidden values.")
        return self._verdict(
            False,
            len(missing) / total,
            f"Output contains forbidden {', '.join(map(_clip, found))}.",
            present=found,
        )


REGEX_FLAGS = {
    "i": "ignore case",
    "m": "^ and $ match at line breaks",
    "s": ". matches a newline",
    "x": "whitespace and # comments outside classes are ignored",
    "a": "ASCII classes (always so in RE2)",
}

REGEX_CHECK_SECONDS = 1.0
"""Worst-case time one regex check may take on one output; a longer match is an `error` verdict."""


_INLINE_COST = budget_for(0.002)
"""Matches that cost more than this (worst case) run in a worker thread, off the event loop."""


def _strip_verbose(pattern: str) -> str:
    """The `x` flag (which RE2 lacks): drop unescaped whitespace and `#` comments outside classes."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]" or out[-1] == "[" or out[-2:] == ["[", "^"]
        elif c == "[":
            in_class = True
        elif c.isspace():
            i += 1
            continue
        elif c == "#":
            newline = pattern.find("\n", i)
            i = len(pattern) if newline < 0 else newline + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _compile_check_regex(pattern: str, flags: str) -> UserRegex:
    return compile_user_regex(
        _strip_verbose(pattern) if "x" in flags else pattern,
        ignore_case="i" in flags,
        multiline="m" in flags,
        dot_all="s" in flags,
    )


class RegexCheck(_CheckBase):
    """The output matches `pattern` (search anywhere, or `fullmatch`); `negate` inverts the check.

    Patterns use RE2 syntax (linear time: no backreferences or lookaround; `\\z` ends the text).
    """

    type: Literal["regex"] = "regex"
    flags: str = Field(default="", description="Any of i (ignore case), m (multiline), s (dot matches newline), x, a.")
    pattern: str = Field(min_length=1, max_length=MAX_PATTERN_LENGTH)
    fullmatch: bool = False
    negate: bool = False

    _compiled: UserRegex = PrivateAttr()

    @field_validator("flags")
    @classmethod
    def _flags(cls, v: str) -> str:
        bad = sorted(set(v) - set(REGEX_FLAGS))
        if bad:
            raise ValueError(f"unknown regex flag(s) {''.join(bad)!r}; use any of {''.join(REGEX_FLAGS)!r}")
        return v

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str, info: ValidationInfo) -> str:
        try:
            _compile_check_regex(v, info.data.get("flags", ""))
        except UserRegexError as e:
            raise ValueError(f"invalid regular expression (RE2 syntax): {e.reason}") from None
        return v

    def model_post_init(self, __context: Any) -> None:
        self._compiled = _compile_check_regex(self.pattern, self.flags)

    def may_block(self, outcome: CaseOutcome) -> bool:
        return self._compiled.cost(outcome.output[:MAX_REGEX_SUBJECT]) > _INLINE_COST

    def run(self, outcome: CaseOutcome) -> Verdict:
        subject = outcome.output[:MAX_REGEX_SUBJECT]
        budget = budget_for(REGEX_CHECK_SECONDS)
        try:
            span = (
                self._compiled.fullmatch(subject, budget=budget)
                if self.fullmatch
                else self._compiled.search(subject, budget=budget)
            )
        except RegexBudgetError as e:
            return Verdict(evaluator=self.label, status="error", score=None, passed=None, reason=f"{e}.", error=str(e))
        how = "fully match" if self.fullmatch else "match"
        found = subject[span[0] : span[1]] if span is not None else ""
        if self.negate:
            if span is None:
                return self._verdict(True, 1.0, f"Output does not {how} /{self.pattern}/, as required.")
            return self._verdict(False, 0.0, f"Output must not {how} /{self.pattern}/ but does at {_clip(found)}.")
        if span is not None:
            return self._verdict(True, 1.0, f"Output {how}es /{self.pattern}/ at {_clip(found)}.")
        return self._verdict(False, 0.0, f"Output does not {how} /{self.pattern}/.")


def extract_json_text(text: str) -> str:
    """The JSON part of an output: the body of a ```json fenced block when the output is one, else the stripped text."""
    stripped = text.strip()
    if stripped.startswith("```"):
        m = _FENCE.match(stripped)
        if m:
            return m.group(2).strip()
    return stripped


def _collect_refs(node: Any, ids: set[str], refs: list[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("$ref", "$dynamicRef", "$recursiveRef") and isinstance(v, str):
                refs.append(v)
            elif k == "$id" and isinstance(v, str):
                ids.add(v.split("#", 1)[0])
            else:
                _collect_refs(v, ids, refs)
    elif isinstance(node, list):
        for item in node:
            _collect_refs(item, ids, refs)


def _json_path(path: Any) -> str:
    out = "$"
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _schema_search(pattern: str, text: str) -> bool:
    """`pattern` (a JSON-schema regex from the user) found in `text`, on RE2 within the check's budget.

    A match that could run too long raises `RegexBudgetError`, which `run_check` makes an error verdict.
    """
    return compile_user_regex(pattern).search(text, budget=budget_for(REGEX_CHECK_SECONDS)) is not None


def _pattern_keyword(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _schema_search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties_keyword(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _schema_search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties_keyword(
    validator: Any, allowed: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [
        key
        for key in instance
        if key not in properties and not any(_schema_search(pattern, key) for pattern in patterns)
    ]
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        listed = ", ".join(repr(extra) for extra in sorted(extras))
        if patterns:
            yield ValidationError(f"{listed} do(es) not match any of the regexes: {', '.join(map(repr, patterns))}")
        else:
            yield ValidationError(f"Additional properties are not allowed ({listed} unexpected)")


_RE2_KEYWORDS = {
    "pattern": _pattern_keyword,
    "patternProperties": _pattern_properties_keyword,
    "additionalProperties": _additional_properties_keyword,
}
"""JSON-schema keywords that match user regexes, on RE2 instead of the library's use of Python's `re`."""


def _schema_patterns(node: Any) -> Iterator[str]:
    """Every regex in a schema: `pattern` values and `patternProperties` keys."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            elif key == "patternProperties" and isinstance(value, dict):
                yield from value
            yield from _schema_patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _schema_patterns(item)


class JsonSchemaCheck(_CheckBase):
    """The output parses as JSON (optionally inside a ```json fence) and validates against `json_schema`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: Literal["json_schema"] = "json_schema"
    json_schema: dict[str, Any] = Field(alias="schema")
    max_errors: int = Field(default=3, ge=1, le=50, description="How many schema violations the reason lists.")

    _validator: Any = PrivateAttr()

    @field_validator("json_schema")
    @classmethod
    def _check_schema(cls, v: dict[str, Any]) -> dict[str, Any]:
        try:
            validator_for(v).check_schema(v)
        except SchemaError as e:
            raise ValueError(f"invalid JSON schema at {_json_path(e.path)}: {e.message}") from None
        ids: set[str] = set()
        refs: list[str] = []
        _collect_refs(v, ids, refs)
        remote = [r for r in refs if not r.startswith("#") and r.split("#", 1)[0] not in ids]
        if remote:
            raise ValueError(f"only references inside the schema are allowed, not {remote[0]!r}")
        for pattern in _schema_patterns(v):
            try:
                compile_user_regex(pattern)
            except UserRegexError as e:
                raise ValueError(f"invalid regular expression {pattern!r} (RE2 syntax): {e.reason}") from None
        return v

    def may_block(self, outcome: CaseOutcome) -> bool:
        return len(outcome.output) > 2_000 and next(_schema_patterns(self.json_schema), None) is not None

    def model_post_init(self, __context: Any) -> None:
        # an explicit empty registry: references are never fetched from anywhere
        cls = extend(validator_for(self.json_schema), _RE2_KEYWORDS)
        self._validator = cls(self.json_schema, registry=Registry())

    def run(self, outcome: CaseOutcome) -> Verdict:
        text = extract_json_text(outcome.output)
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            return self._verdict(False, 0.0, f"Output is not valid JSON: {e}.")
        if self._validator.is_valid(doc):
            return self._verdict(True, 1.0, "Output is valid JSON matching the schema.")
        errors = sorted(self._validator.iter_errors(doc), key=lambda e: (list(e.absolute_path), e.message))
        shown = [f"at {_json_path(e.absolute_path)}: {e.message}" for e in errors[: self.max_errors]]
        more = f" (and {len(errors) - len(shown)} more)" if len(errors) > len(shown) else ""
        return self._verdict(
            False,
            0.0,
            "Output does not match the schema: " + "; ".join(shown) + more + ".",
            errors=[{"path": _json_path(e.absolute_path), "message": e.message} for e in errors[:50]],
        )


class ToolCallSpec(BaseModel):
    """An expected tool call in a check config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)


@dataclass(slots=True)
class ToolMatchResult:
    """How the calls made line up with the expected ones."""

    matched: int
    missing: list[str]
    unexpected: list[str]
    mismatched: list[str]
    order_note: str | None = None


def _call_args(call: ToolCall) -> dict[str, Any]:
    args: Any = call.arguments
    if isinstance(args, str | bytes):  # OpenAI sends arguments as a JSON string
        try:
            args = orjson.loads(args) if args else {}
        except orjson.JSONDecodeError:
            return {"<unparsed>": args if isinstance(args, str) else args.decode("utf-8", "replace")}
    if args is None:
        return {}
    return args if isinstance(args, dict) else {"<value>": args}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(k in actual and _subset(v, actual[k]) for k, v in expected.items())
    return _same(expected, actual)


def _args_match(expected: dict[str, Any], actual: dict[str, Any], mode: str) -> bool:
    if mode == "ignore":
        return True
    if mode == "exact":
        return _same(expected, actual)
    return _subset(expected, actual)


def _short(value: Any, limit: int = 120) -> str:
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _render_call(name: str, args: dict[str, Any]) -> str:
    return f"{name}({_short(args)})"


def _arg_diff(expected: dict[str, Any], actual: dict[str, Any], mode: str) -> str:
    notes: list[str] = []
    for k, v in expected.items():
        if k not in actual:
            notes.append(f"missing argument {k!r}")
        elif not (_subset(v, actual[k]) if mode == "subset" else _same(v, actual[k])):
            notes.append(f"{k!r} expected {_short(v, 60)}, got {_short(actual[k], 60)}")
    if mode == "exact":
        notes.extend(f"unexpected argument {k!r}" for k in actual if k not in expected)
    return ", ".join(notes) or "arguments differ"


def _max_unordered(ok: list[list[bool]], n_made: int) -> list[int]:
    """Maximum bipartite matching (expected -> made index or -1) by augmenting paths."""
    owner = [-1] * n_made
    match = [-1] * len(ok)

    def augment(i: int, seen: list[bool]) -> bool:
        for j in range(n_made):
            if ok[i][j] and not seen[j]:
                seen[j] = True
                if owner[j] == -1 or augment(owner[j], seen):
                    owner[j] = i
                    match[i] = j
                    return True
        return False

    for i in range(len(ok)):
        augment(i, [False] * n_made)
    return match


def _max_ordered(ok: list[list[bool]], n_made: int) -> list[int]:
    """Longest in-order matching (a longest common subsequence under `ok`)."""
    n = len(ok)
    best = [[0] * (n_made + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(n_made - 1, -1, -1):
            best[i][j] = max(best[i + 1][j], best[i][j + 1], best[i + 1][j + 1] + 1 if ok[i][j] else 0)
    match = [-1] * n
    i = j = 0
    while i < n and j < n_made:
        if ok[i][j] and best[i][j] == best[i + 1][j + 1] + 1:
            match[i] = j
            i += 1
            j += 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return match


def match_tool_calls(
    expected: list[ToolCall], made: list[ToolCall], *, arguments: str = "subset", ordered: bool = False
) -> ToolMatchResult:
    """Pair expected calls with made ones, maximising the number matched (in order when `ordered`)."""
    exp_args = [_call_args(c) for c in expected]
    made_args = [_call_args(c) for c in made]
    ok = [
        [e.name == m.name and _args_match(exp_args[i], made_args[j], arguments) for j, m in enumerate(made)]
        for i, e in enumerate(expected)
    ]
    match = _max_ordered(ok, len(made)) if ordered else _max_unordered(ok, len(made))
    matched = sum(1 for j in match if j >= 0)
    order_note = None
    if ordered and matched < len(expected):
        if sum(1 for j in _max_unordered(ok, len(made)) if j >= 0) > matched:
            order_note = "calls were made in a different order than expected"
    used = {j for j in match if j >= 0}
    missing: list[str] = []
    mismatched: list[str] = []
    for i, e in enumerate(expected):
        if match[i] >= 0:
            continue
        same_name = next((j for j, m in enumerate(made) if j not in used and m.name == e.name), None)
        if same_name is not None and not any(ok[i]):
            used.add(same_name)
            mismatched.append(f"{e.name}: {_arg_diff(exp_args[i], made_args[same_name], arguments)}")
        else:
            missing.append(_render_call(e.name, exp_args[i]))
    unexpected = [_render_call(m.name, made_args[j]) for j, m in enumerate(made) if j not in used]
    return ToolMatchResult(matched, missing, unexpected, mismatched, order_note)


class ToolCallMatchCheck(_CheckBase):
    """Compares the tool calls made with the expected ones (`expected`, else the case's expected tool calls).

    score = fraction of expected calls matched; passes when all are matched and, unless
    `allow_extra`, no other call was made.
    """

    type: Literal["tool_call_match"] = "tool_call_match"
    expected: list[ToolCallSpec] | None = None
    arguments: Literal["subset", "exact", "ignore"] = Field(
        default="subset", description="subset: expected arguments must appear with equal values; exact: equal dicts."
    )
    ordered: bool = Field(default=False, description="Expected calls must happen in the given order.")
    allow_extra: bool = Field(default=True, description="Calls beyond the expected ones do not fail the check.")

    def run(self, outcome: CaseOutcome) -> Verdict:
        if self.expected is not None:
            expected = [ToolCall(name=e.name, arguments=dict(e.arguments)) for e in self.expected]
        elif outcome.expected_tool_calls is not None:
            expected = outcome.expected_tool_calls
        else:
            return self._na("No expected tool calls for this case.")
        result = match_tool_calls(expected, outcome.tool_calls, arguments=self.arguments, ordered=self.ordered)
        passed = result.matched == len(expected) and (self.allow_extra or not result.unexpected)
        if expected:
            score = result.matched / len(expected)
        else:
            score = 1.0 if passed else 0.0
        if passed:
            extra = f" ({len(result.unexpected)} additional call(s) allowed)" if result.unexpected else ""
            if expected:
                reason = f"All {len(expected)} expected tool call(s) made{extra}."
            else:
                reason = f"No tool call expected and none made{extra}."
        else:
            parts = [f"{result.matched}/{len(expected)} expected tool call(s) matched"]
            if result.mismatched:
                parts.append("argument mismatch: " + "; ".join(result.mismatched))
            if result.missing:
                parts.append("missing: " + ", ".join(result.missing))
            if result.unexpected and not self.allow_extra:
                parts.append("unexpected: " + ", ".join(result.unexpected))
            if result.order_note:
                parts.append(result.order_note)
            reason = "; ".join(parts) + "."
        return self._verdict(
            passed,
            score,
            reason,
            matched=result.matched,
            expected=len(expected),
            missing=result.missing,
            unexpected=result.unexpected,
            mismatched=result.mismatched,
        )


class LatencyBudgetCheck(_CheckBase):
    """The case's latency is at most `max_ms` milliseconds."""

    type: Literal["latency_budget"] = "latency_budget"
    max_ms: float = Field(gt=0, allow_inf_nan=False)

    def run(self, outcome: CaseOutcome) -> Verdict:
        ms = outcome.latency_ms
        if ms is None or not math.isfinite(ms):
            return self._na("No latency was measured for this case.")
        if ms <= self.max_ms:
            return self._verdict(True, 1.0, f"Latency {ms:.0f} ms is within the {self.max_ms:g} ms budget.")
        return self._verdict(False, 0.0, f"Latency {ms:.0f} ms exceeds the {self.max_ms:g} ms budget.")


class TokenBudgetCheck(_CheckBase):
    """The case used at most `max_tokens` tokens."""

    type: Literal["token_budget"] = "token_budget"
    max_tokens: int = Field(gt=0)

    def run(self, outcome: CaseOutcome) -> Verdict:
        used = outcome.tokens
        if used is None:
            return self._na("No token count was recorded for this case.")
        if used <= self.max_tokens:
            return self._verdict(True, 1.0, f"{used} tokens is within the {self.max_tokens} token budget.")
        return self._verdict(False, 0.0, f"{used} tokens exceeds the {self.max_tokens} token budget.")


CheckConfig = Annotated[
    EqualsCheck
    | ContainsCheck
    | NotContainsCheck
    | RegexCheck
    | JsonSchemaCheck
    | ToolCallMatchCheck
    | LatencyBudgetCheck
    | TokenBudgetCheck,
    Field(discriminator="type"),
]

CHECK_TYPES: frozenset[str] = frozenset(
    {"equals", "contains", "not_contains", "regex", "json_schema", "tool_call_match", "latency_budget", "token_budget"}
)

_ADAPTER: TypeAdapter[CheckConfig] = TypeAdapter(CheckConfig, config=ConfigDict(title="check config"))


def parse_check_config(data: Any) -> CheckConfig:
    """Validate a check config dict (raises `pydantic.ValidationError` with what is wrong)."""
    if isinstance(data, BaseModel):
        return data  # type: ignore[return-value]
    return _ADAPTER.validate_python(data)


def run_check(config: CheckConfig, outcome: CaseOutcome) -> Verdict:
    """Apply one validated check to one case. Never raises for a valid config: failures become verdicts."""
    try:
        return config.run(outcome)
    except Exception as e:  # a bug or an odd outcome must not stop the run
        return Verdict(
            evaluator=config.label,
            status="error",
            score=None,
            passed=None,
            reason=f"Check {config.type} failed to run: {type(e).__name__}: {e}",
            error=f"{type(e).__name__}: {e}",
        )
