"""Decoding and validating structured (JSON) output."""

from __future__ import annotations

from typing import Any

import orjson

from assay.providers.errors import ParseError

_validators: dict[bytes, Any] = {}


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


def decode_json(text: str, schema: dict[str, Any] | None, *, provider: str, model: str, lenient: bool = False) -> Any:
    """Decode `text` as JSON and validate it against `schema`; raise `ParseError` otherwise."""
    try:
        value = orjson.loads(strip_code_fences(text) if lenient else text)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"The model's answer is not valid JSON ({exc.msg}).", provider=provider, model=model) from None
    if schema is not None:
        error = next(iter(_validator(schema).iter_errors(value)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise ParseError(
                f"The model's answer does not match the schema at {where}: {error.message}",
                provider=provider,
                model=model,
            )
    return value
