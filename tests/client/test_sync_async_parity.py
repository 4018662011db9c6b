"""The async SDK mirrors the sync one: same resources, same public methods, same parameters.

The sync modules are generated from the async ones (see test_generated_sync.py); this checks what the generator
makes of them from the outside: every resource, method and parameter has its twin.
"""

from __future__ import annotations

import inspect

import pytest

from assay.client import _agents, _analytics, _async_agents, _async_analytics
from assay.client._async_client import AsyncClient
from assay.client._client import Client

PAIRS = [(_agents, _async_agents), (_analytics, _async_analytics)]


def _resources(module) -> dict[str, type]:  # noqa: ANN001
    return {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and obj.__module__ == module.__name__ and not name.startswith("_")
    }


def _methods(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in vars(cls).items() if callable(fn) and not name.startswith("_")}


def _params(sig: inspect.Signature) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


@pytest.mark.parametrize(("sync_module", "async_module"), PAIRS)
def test_same_resources_and_methods(sync_module, async_module) -> None:  # noqa: ANN001
    sync, asynchronous = _resources(sync_module), _resources(async_module)
    assert set(sync) == set(asynchronous)
    for name, cls in sync.items():
        sync_methods, async_methods = _methods(cls), _methods(asynchronous[name])
        assert set(sync_methods) == set(async_methods), name
        for method, sig in sync_methods.items():
            assert _params(sig) == _params(async_methods[method]), f"{name}.{method}"


def test_clients_expose_the_same_surface() -> None:
    def public(cls: type) -> set[str]:
        return {n for n in dir(cls) if not n.startswith("_") and n not in {"close", "aclose"}}

    assert public(Client) == public(AsyncClient)
    sync, asynchronous = Client("http://x", "k"), AsyncClient("http://x", "k")
    try:
        sync_resources = {n: type(v).__name__ for n, v in vars(sync).items() if not n.startswith("_")}
        async_resources = {n: type(v).__name__ for n, v in vars(asynchronous).items() if not n.startswith("_")}
        assert sync_resources == async_resources and len(sync_resources) >= 13
    finally:
        sync.close()
    assert _params(inspect.signature(Client.__init__)) == _params(inspect.signature(AsyncClient.__init__))
