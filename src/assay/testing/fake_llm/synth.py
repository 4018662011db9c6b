"""Synthesise a JSON value that is valid against a (practical subset of) JSON Schema."""

from __future__ import annotations

from typing import Any

_MAX_DEPTH = 12


def synthesize(schema: dict[str, Any], overrides: dict[str, Any] | None = None) -> Any:
    """Return an instance of `schema`; top-level object keys in `overrides` replace synthesised values."""
    value = _synth(schema, schema, 0)
    if overrides:
        if isinstance(value, dict):
            value.update(overrides)
        else:
            value = dict(overrides)
    return value


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        if part:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _synth(schema: Any, root: dict[str, Any], depth: int) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    if "$ref" in schema:
        return _synth(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("default") is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = schema[key]
            non_null = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return _synth((non_null or options)[0], root, depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_resolve(part["$ref"], root) if "$ref" in part else part)
        return _synth(merged, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        props = schema.get("properties", {})
        return {name: _synth(sub, root, depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 0)
        return [_synth(schema.get("items", {}), root, depth + 1) for _ in range(count)]
    if kind == "string":
        text = "fake"
        min_len = int(schema.get("minLength", 0))
        return text.ljust(min_len, "x")
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        value = low + 1 if "exclusiveMinimum" in schema else low
        if high is not None and value > high:
            value = high
        return int(value) if kind == "integer" else float(value)
    return None
