"""The SDK works with httpx and pydantic only: importing it never pulls in server dependencies."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_sdk_imports_without_server_dependencies() -> None:
    script = textwrap.dedent(
        """
        import sys
        for name in ("sqlalchemy", "fastapi", "openai", "anthropic", "starlette", "uvicorn", "alembic"):
            sys.modules[name] = None  # importing it now raises ImportError
        import assay
        import assay.client
        from assay import AsyncClient, Client, NotFoundError, ValidationError
        client = Client("http://127.0.0.1:1", "key", max_retries=0)
        assert client.datasets and client.suites and AsyncClient and NotFoundError and ValidationError
        try:
            client.suites.list()
        except assay.APIConnectionError:
            pass
        loaded = sorted(m for m in sys.modules if m.startswith("assay."))
        assert all(m.startswith("assay.client") for m in loaded), loaded
        print("ok", assay.__version__)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok ")
