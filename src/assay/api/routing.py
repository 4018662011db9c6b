"""Routing shared by every route: both slash forms of a path, and the methods a path allows.

PostHog's paths end with a slash and its SDKs send them; Assay documents each path once (the
LLM-analytics and `/v1` paths without the slash, the capture paths with it). A request in the other
form is routed to the same handler instead of being redirected: clients that do not re-send a body on
a 307 (urllib, httpx by default) would lose it. The form the client used is kept in the scope, so
links built for it (pagination) keep that form.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

REQUESTED_PATH = "assay.requested_path"
"""Scope key holding the path as the client sent it, when it was routed in its other form."""

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def other_form(path: str) -> str:
    """The same path with its trailing slash removed, or added."""
    return path[:-1] if path.endswith("/") else path + "/"


def client_url(request: Request) -> URL:
    """The request's URL in the form the client sent (with or without the trailing slash)."""
    requested = request.scope.get(REQUESTED_PATH)
    return request.url if requested is None else request.url.replace(path=requested)


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> list[str]:
    """The methods the resource at the scope's path (in either slash form) serves, sorted; [] for an unknown path.

    The resource is the path template of the first route matching the path; a method dispatched to another
    template (`evaluations/{id}` also matches `evaluations/test_hog`) is not one of its methods. HEAD comes
    with GET, and OPTIONS with every known path.
    """
    for path in (scope["path"], other_form(scope["path"])):
        dispatched = {method: _dispatch(routes, {**scope, "path": path, "method": method}) for method in _METHODS}
        resource = next((template for template in _path_templates(routes, {**scope, "path": path})), None)
        if resource is None:
            continue
        methods = {method for method, template in dispatched.items() if template == resource}
        if "GET" in methods:
            methods.add("HEAD")
        return sorted(methods | {"OPTIONS"})
    return []


def _template(route: BaseRoute, scope: Scope) -> str | None:
    """The path template of the route `route` dispatches `scope` to (FastAPI's included routers hold several)."""
    select = getattr(route, "_match", None)  # FastAPI's included router: find the route it would pick
    if select is not None:
        selected = select(scope)[2]
        return getattr(selected, "path_format", None) or getattr(selected, "path", None)
    return getattr(route, "path_format", None) or getattr(route, "path", None)


def _dispatch(routes: list[BaseRoute], scope: Scope) -> str | None:
    """The template the router would dispatch `scope` to, or None (405 or 404)."""
    for route in routes:
        if route.matches(scope)[0] is Match.FULL:
            return _template(route, scope)
    return None


def _path_templates(routes: list[BaseRoute], scope: Scope) -> Iterator[str]:
    """Templates of the routes matching the scope's path whatever the method, in routing order."""
    for route in routes:
        for method in _METHODS:
            probe = {**scope, "method": method}
            if route.matches(probe)[0] is Match.FULL:
                template = _template(route, probe)
                if template is not None:
                    yield template
                    break


def install_routing(app: FastAPI) -> None:
    """Route both slash forms of every path to the same handler, never redirecting (404 when neither exists)."""
    router = app.router
    router.redirect_slashes = False
    not_found = router.default

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if scope["type"] == "http" and path != "/" and REQUESTED_PATH not in scope:
            retry = {**scope, "path": other_form(path), REQUESTED_PATH: path}
            if "raw_path" in scope and scope["raw_path"] is not None:
                retry["raw_path"] = other_form(scope["raw_path"].decode("latin-1")).encode("latin-1")
            await router.app(retry, receive, send)
            return
        await not_found(scope, receive, send)

    router.default = fallback
