"""Request body templates: `{{input_message}}`, `{{expected_behavior}}`, `{{tags}}`, `{{metadata.x}}` in JSON strings.

`{{messages}}` is a conversation case's whole conversation so far (OpenAI chat format; for a one-turn case,
the one user message), so an `http` agent gets the history with every turn.

A string that is exactly one placeholder becomes the JSON value itself; elsewhere values are spliced in as text
(strings verbatim, other values as compact JSON, null as the empty string).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
FIELDS = ("input_message", "expected_behavior", "tags", "messages")


class TemplateError(ValueError):
    """A body template names an unknown placeholder."""


def check_name(name: str) -> None:
    """Raise `TemplateError` unless `name` is a known placeholder."""
    if name in FIELDS:
        return
    if name.startswith("metadata."):
        parts = name.split(".")[1:]
        if parts and all(parts):
            return
    allowed = ", ".join("{{" + f + "}}" for f in (*FIELDS, "metadata.<key>"))
    raise TemplateError(f"Unknown placeholder {{{{{name}}}}} in body_template; allowed: {allowed}.")


def check_template(template: Any) -> None:
    """Validate every placeholder in a JSON template (strings in values and in object keys)."""
    if isinstance(template, str):
        for match in PLACEHOLDER.finditer(template):
            check_name(match.group(1))
    elif isinstance(template, dict):
        for key, value in template.items():
            check_template(key)
            check_template(value)
    elif isinstance(template, list):
        for item in template:
            check_template(item)


def lookup(name: str, values: dict[str, Any]) -> Any:
    """The value of a placeholder in `values` (`metadata.a.b` walks nested dicts); None when absent."""
    if not name.startswith("metadata."):
        return values.get(name)
    value: Any = values.get("metadata")
    for part in name.split(".")[1:]:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _render_str(template: str, values: dict[str, Any]) -> Any:
    if "{{" not in template:
        return template
    whole = PLACEHOLDER.fullmatch(template)
    if whole is not None:
        return lookup(whole.group(1), values)
    return PLACEHOLDER.sub(lambda m: _text(lookup(m.group(1), values)), template)


def render(template: Any, values: dict[str, Any]) -> Any:
    """Substitute placeholders in a JSON template with `values` (keys: the placeholder fields and `metadata`)."""
    if isinstance(template, str):
        return _render_str(template, values)
    if isinstance(template, dict):
        return {_text(_render_str(k, values)): render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render(item, values) for item in template]
    return template
