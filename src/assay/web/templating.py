"""Jinja2 pages: one autoescaping environment, the filters pages share, and `render`.

Every value is escaped unless a template marks it safe; only markup the server builds itself (inline SVG
charts) is marked safe, never text from agents, judges or users.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from assay import __version__


def fmt_score(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def fmt_pct(value: float | None, digits: int = 0) -> str:
    """A 0–1 rate as a percentage."""
    return "–" if value is None else f"{value * 100:.{digits}f} %"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes} min {seconds:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def fmt_int(value: int | float | None) -> str:
    return "–" if value is None else f"{int(value):,}".replace(",", " ")


def fmt_time(value: datetime | None) -> str:
    """UTC date and time to the minute."""
    if value is None:
        return "–"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def query_with(request: Request, **changes: Any) -> str:
    """The current query string with some parameters replaced (None removes one), for sort and filter links."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("assay.web", "templates"),
        autoescape=select_autoescape(["html", "svg"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        score=fmt_score, pct=fmt_pct, ms=fmt_ms, seconds=fmt_seconds, int=fmt_int, time=fmt_time, pretty_json=fmt_json
    )
    env.globals.update(version=__version__, query_with=query_with)
    return env


templates = _environment()


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a page; the signed-in user (if any) and the CSRF token are always in its context."""
    user = getattr(request.state, "web_user", None)
    page = templates.get_template(name).render(
        request=request, user=user, csrf_token=user.csrf_token if user else "", **(context or {})
    )
    return HTMLResponse(page, status_code=status_code)
