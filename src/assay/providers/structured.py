"""Structured (JSON) output: decoding and validation, tolerant extraction, and what each endpoint accepts.

OpenAI-compatible servers accept different subsets of `response_format`:

- OpenAI, vLLM, LM Studio, newer Ollama and llama-server: `{"type": "json_schema", "json_schema": {...}}`;
- llama-cpp-python's server answers json_schema with HTTP 500 but takes `{"type": "json_object", "schema": {...}}`
  and constrains the output to the schema; older llama-server builds answer json_schema with 400;
- LM Studio refuses `json_object` (400); older Ollama ignores json_schema and answers free text;
- vLLM refuses (400) schemas its grammar backend cannot compile.

A caller walks `STRATEGIES` (json_schema → json_object with the schema → instructed JSON in the prompt), falling
back when the server says the format is unsupported (`UnsupportedResponseFormat`) or ignores it, and keeps what it
learned per endpoint in a `FormatMemory`.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from assay.providers.errors import BadRequestError, ParseError

_validators: dict[bytes, Any] = {}

Strategy = Literal["json_schema", "json_object", "instructed"]
STRATEGIES: tuple[Strategy, ...] = ("json_schema", "json_object", "instructed")
"""Ways to ask for JSON, most constrained first."""

_FORMAT_WORDS = re.compile(
    r"response[_ .]?format|json[_ ]?schema|json[_ ]?object|structured[_ ]outputs?|guided|x?grammar", re.IGNORECASE
)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_MAX_CANDIDATES = 50


class UnsupportedResponseFormat(BadRequestError):
    """The endpoint refused the requested `response_format` (whatever HTTP status it used): not retryable as is."""


def names_response_format(text: str | None) -> bool:
    """Whether an error message is about the response format (response_format, json_schema, grammar …)."""
    return bool(text) and _FORMAT_WORDS.search(text or "") is not None


def is_format_rejection(status: int, detail: str | None) -> bool:
    """An HTTP error answered to a request with `response_format` that says the format is not supported."""
    return status in (400, 422, 500) and names_response_format(detail)


def strip_code_fences(text: str) -> str:
    """Remove a surrounding markdown code fence (```json … ```), if any."""
    text = text.strip()
    if text.startswith("```"):
        newline = text.find("\n")
        text = text[newline + 1 :] if newline >= 0 else text[3:]
        if text.rstrip().endswith("```"):
            text = text.rstrip()[:-3]
    return text.strip()


def _validator(schema: dict[str, Any]) -> Any:
    key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    validator = _validators.get(key)
    if validator is None:
        from jsonschema import Draft202012Validator

        validator = Draft202012Validator(schema)
        if len(_validators) > 512:
            _validators.clear()
        _validators[key] = validator
    return validator


def schema_error(value: Any, schema: dict[str, Any]) -> str | None:
    """Why `value` does not match `schema` (None when it does)."""
    error = next(iter(_validator(schema).iter_errors(value)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {where}: {error.message}"


def decode_json(text: str, schema: dict[str, Any] | None, *, provider: str, model: str, lenient: bool = False) -> Any:
    """Decode `text` as JSON and validate it against `schema`; raise `ParseError` otherwise."""
    try:
        value = orjson.loads(strip_code_fences(text) if lenient else text)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"The model's answer is not valid JSON ({exc.msg}).", provider=provider, model=model) from None
    if schema is not None:
        problem = schema_error(value, schema)
        if problem is not None:
            raise ParseError(f"The model's answer does not match the schema {problem}", provider=provider, model=model)
    return value


def _single_to_double_quotes(text: str) -> str:
    """Rewrite single-quoted strings as JSON strings, leaving double-quoted strings alone.

    Only used on text that failed to parse as JSON; an unterminated single-quoted string is kept as it is.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
        elif ch == "'":
            end = i + 1
            chars: list[str] = []
            while end < n and text[end] != "'":
                if text[end] == "\\" and end + 1 < n:
                    chars.append(text[end + 1])
                    end += 2
                else:
                    chars.append(text[end])
                    end += 1
            if end >= n:
                out.append(text[i:])
                break
            out.append(json.dumps("".join(chars)))
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_PY_LITERALS = re.compile(r"(?<![\w\"])(True|False|None)(?![\w\"])")


def _objects_in(text: str) -> list[dict[str, Any]]:
    """JSON objects found in `text`: at each `{`, as JSON, then with single quotes and Python literals fixed."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    start = text.find("{")
    tries = 0
    while start >= 0 and tries < _MAX_CANDIDATES:
        tries += 1
        value: Any = None
        end = start
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            fixed = _single_to_double_quotes(text[start:])
            fixed = _PY_LITERALS.sub(lambda m: {"True": "true", "False": "false", "None": "null"}[m.group(1)], fixed)
            try:
                value, _ = decoder.raw_decode(fixed)
            except ValueError:
                value = None
            end = start + 1
        if isinstance(value, dict):
            found.append(value)
            start = text.find("{", max(end, start + 1))
        else:
            start = text.find("{", start + 1)
    return found


def extract_json(text: str, schema: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The JSON object a model meant, from an answer that may wrap it in prose, code fences or reasoning.

    Tries, in order: the whole text; each fenced code block; each `{` in the text (so leading prose and trailing
    text are ignored), also with single-quoted strings and Python literals repaired. Returns the first object
    that matches `schema` (or the first object found when none does or no schema is given); None if none.
    """
    cleaned = _THINK.sub("", text).strip()
    candidates: list[dict[str, Any]] = []
    try:
        whole = orjson.loads(cleaned)
    except orjson.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        candidates.append(whole)
    for block in _FENCE.findall(cleaned):
        candidates.extend(_objects_in(block))
    if not candidates or schema is not None:
        candidates.extend(_objects_in(cleaned))
    if not candidates:
        return None
    if schema is not None:
        for candidate in candidates:
            if schema_error(candidate, schema) is None:
                return candidate
    return candidates[0]


# --- What each endpoint accepts ---------------------------------------------------------------------------------------

FORMAT_FAILURES_TO_SKIP = 2
"""A strategy whose answers could not be read this many times in a row, each time followed by a later strategy
that worked, is skipped for that endpoint (the server ignores that format)."""


@dataclass(slots=True)
class _EndpointFormats:
    rejected: set[str] = field(default_factory=set)
    ignored: dict[str, int] = field(default_factory=dict)


class FormatMemory:
    """Per endpoint (provider, base URL, model): the formats it refused and the formats it keeps ignoring.

    A single unreadable answer demotes nothing (a model can fail once under any format); a refusal is final.
    """

    def __init__(self, max_endpoints: int = 10_000) -> None:
        self.max_endpoints = max_endpoints
        self._data: OrderedDict[tuple[str, ...], _EndpointFormats] = OrderedDict()

    def _entry(self, key: tuple[str, ...]) -> _EndpointFormats:
        entry = self._data.get(key)
        if entry is None:
            entry = self._data[key] = _EndpointFormats()
            while len(self._data) > self.max_endpoints:
                self._data.popitem(last=False)
        else:
            self._data.move_to_end(key)
        return entry

    def chain(self, key: tuple[str, ...], strategies: tuple[Strategy, ...] = STRATEGIES) -> list[Strategy]:
        """The strategies to try for this endpoint, in order (never empty: the last one always remains)."""
        entry = self._data.get(key)
        if entry is None:
            return list(strategies)
        usable = [
            s for s in strategies if s not in entry.rejected and entry.ignored.get(s, 0) < FORMAT_FAILURES_TO_SKIP
        ]
        return usable or [strategies[-1]]

    def rejected(self, key: tuple[str, ...], strategy: Strategy) -> None:
        """The server refused this format: never ask it that way again."""
        self._entry(key).rejected.add(strategy)

    def worked(self, key: tuple[str, ...], strategy: Strategy, ignored: list[Strategy]) -> None:
        """`strategy` gave a readable answer after `ignored` gave unreadable ones in the same call."""
        if not ignored and key not in self._data:
            return
        entry = self._entry(key)
        entry.ignored.pop(strategy, None)
        for earlier in ignored:
            entry.ignored[earlier] = entry.ignored.get(earlier, 0) + 1

    def clear(self) -> None:
        """Forget everything (tests)."""
        self._data.clear()


_memory = FormatMemory()


def format_memory() -> FormatMemory:
    """The process-wide memory of what each endpoint accepts."""
    return _memory
