"""The run-engine fixtures (an app with its dispatcher, a client, a tenant), shared with the analysis tests."""

from __future__ import annotations

from tests.engine.conftest import engine_client, engine_settings, running_app, tenant

__all__ = ["engine_client", "engine_settings", "running_app", "tenant"]
