"""The part of promptfoo's nunjucks templating an import can render: `{{ name }}` and `{{ name.key }}` with a test's vars.

Suite cases hold finished inputs, so prompts (and assertion values) are rendered with each test's vars when they
are imported. Filters (`{{ x | upper }}`), tags (`{% if %}`) and comments are not rendered: `unsupported` names them
so the import can report the prompt instead of sending a half-rendered one.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*$")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
_BLOCK = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def unsupported(template: str) -> str | None:
    """Why `template` cannot be rendered here (the first construct beyond plain variables), or None."""
    block = _BLOCK.search(template)
    if block is not None:
        return f"nunjucks tag {block.group(0)[:40]!r}"
    for match in _PLACEHOLDER.finditer(template):
        if not _NAME.match(match.group(1)):
            return f"nunjucks expression {match.group(0)[:40]!r} (only plain variables are rendered)"
    return None


def _lookup(expression: str, variables: dict[str, Any]) -> Any:
    head = re.match(r"[A-Za-z_][A-Za-z0-9_]*", expression)
    if head is None:
        return None
    value: Any = variables.get(head.group(0))
    for key, index in _STEP.findall(expression[head.end() :]):
        if key and isinstance(value, dict):
            value = value.get(key)
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return None
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def render(template: str, variables: dict[str, Any]) -> str:
    """`template` with every `{{ variable }}` replaced by its value (absent: empty, as nunjucks renders it)."""
    return _PLACEHOLDER.sub(lambda m: _text(_lookup(m.group(1), variables)), template)


def uses_variables(template: str) -> bool:
    """Whether `template` has any `{{ … }}` placeholder."""
    return _PLACEHOLDER.search(template) is not None
