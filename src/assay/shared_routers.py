"""Including a module's router in an application, with its routes prepared once per process.

FastAPI (0.16x) prepares an included router's routes lazily, per application: the first request that reaches
a router builds every one of its routes again (dependencies, parameter models), about 10 ms a route, so a new
application answers its first requests 0.2–0.5 s late. A process normally builds one application, but tests
and benchmarks build one per database, thousands of times. Every Assay application is built the same way
(`api/app.py::create_app`), so the prepared entry of a router can be shared by all of them.

Shared entries keep the first application as their `dependency_overrides_provider`; Assay sets no dependency
overrides.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

_prepared: dict[int, tuple[APIRouter, BaseRoute]] = {}


def include_shared(app: FastAPI, router: APIRouter) -> None:
    """`app.include_router(router)`, reusing the entry (and its prepared routes) an earlier application made."""
    found = _prepared.get(id(router))
    if found is not None and found[0] is router and not (router.on_startup or router.on_shutdown):
        app.router.routes.append(found[1])
        mark_changed = getattr(app.router, "_mark_routes_changed", None)
        if mark_changed is not None:
            mark_changed()
        return
    before = len(app.router.routes)
    app.include_router(router)
    added = app.router.routes[before:]
    if len(added) == 1:  # one entry standing for the router: shareable (a flat copy of its routes is not)
        _prepared[id(router)] = (router, added[0])
