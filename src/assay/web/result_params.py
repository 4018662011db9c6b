"""The results table's query string (filters, sort, cursor) read into storage's filter and sort, with 4xx on bad values.

HTML forms send empty fields as empty strings: an empty value means "no filter".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import get_args

from assay.errors import ValidationFailed
from assay.storage.result_queries import ResultFilter, ResultSort, ResultStatus, VerdictStatus

FILTER_PARAMS = ("status", "tag", "score_min", "score_max", "evaluator", "verdict", "q")
RESULT_STATUSES: tuple[str, ...] = get_args(ResultStatus)
VERDICT_STATUSES: tuple[str, ...] = get_args(VerdictStatus)
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class TableQuery:
    """What the query string asks of the results table."""

    flt: ResultFilter
    sort: ResultSort
    cursor: str | None


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name, "").strip()
    if len(value) > MAX_TEXT:
        raise ValidationFailed(f"{name} is longer than {MAX_TEXT} characters", attr=name)
    if "\x00" in value:
        raise ValidationFailed(f"{name} contains a NUL character", attr=name)
    return value or None


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = _text(params, name)
    if value is not None and value not in allowed:
        raise ValidationFailed(f"{name} must be one of {', '.join(allowed)}", attr=name)
    return value


def _score(params: Mapping[str, str], name: str) -> float | None:
    value = _text(params, name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise ValidationFailed(f"{name} must be a number from 0 to 100", attr=name) from exc
    if not math.isfinite(number) or not 0 <= number <= 100:
        raise ValidationFailed(f"{name} must be a number from 0 to 100", attr=name)
    return number


def table_query(params: Mapping[str, str]) -> TableQuery:
    """Filters, sort and cursor from a query string; raises `ValidationFailed` (a 422 page) on bad values."""
    flt = ResultFilter(
        status=_choice(params, "status", RESULT_STATUSES),  # type: ignore[arg-type]
        tag=_text(params, "tag"),
        score_min=_score(params, "score_min"),
        score_max=_score(params, "score_max"),
        evaluator=_text(params, "evaluator"),
        verdict=_choice(params, "verdict", VERDICT_STATUSES),  # type: ignore[arg-type]
        search=_text(params, "q"),
    )
    sort = ResultSort.parse(_text(params, "sort"))
    return TableQuery(flt, sort, _text(params, "cursor"))


def kept_params(params: Mapping[str, str], *, with_sort: bool = True) -> dict[str, str]:
    """The non-empty filter (and sort) parameters, for links that keep the table's view."""
    names = (*FILTER_PARAMS, "sort") if with_sort else FILTER_PARAMS
    return {name: params[name] for name in names if params.get(name)}
