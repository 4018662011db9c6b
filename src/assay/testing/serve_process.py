"""Waiting for an `assay serve` started in a subprocess (benchmarks and scripts) to answer `/healthz`."""

from __future__ import annotations

import contextlib
import subprocess
import time

import httpx


class ServerDidNotStart(RuntimeError):
    """The process exited, or `/healthz` did not answer 200 in time."""


def wait_until_healthy(base: str, proc: subprocess.Popen[bytes], *, timeout: float = 60.0) -> None:
    """Return once `{base}/healthz` answers 200; `ServerDidNotStart` if `proc` exits or `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        if proc.poll() is not None or time.monotonic() > deadline:
            raise ServerDidNotStart(f"assay serve at {base} did not start")
        time.sleep(0.1)
