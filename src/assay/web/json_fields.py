"""JSON typed into a form: parsed strictly, checked storable, with a message that names the field."""

from __future__ import annotations

import json
from typing import Any

from assay.domain.storable import storable_problem
from assay.errors import ValidationFailed


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json_field(text: str, field: str) -> Any:
    """The JSON value in `text` (empty text is null); `ValidationFailed` naming `field` when it is not valid."""
    if not text.strip():
        return None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"{field}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})", attr=field
        ) from None
    except ValueError as exc:
        raise ValidationFailed(f"{field}: {exc}", attr=field) from None
    problem = storable_problem(value)
    if problem is not None:
        raise ValidationFailed(f"{field}: {problem[1]}", attr=field)
    return value
