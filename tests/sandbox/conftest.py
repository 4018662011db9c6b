"""One sandbox pool for the sandbox tests (workers are processes: starting them is the slow part)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from assay.sandbox.lockdown import LAYERS
from assay.sandbox.pool import PoolConfig, SandboxPool
from assay.sandbox.process import WorkerConfig

SECRET = "sandbox-test-secret-value"

TEST_CONFIG = PoolConfig(
    workers=1,
    timeout_seconds=0.6,
    worker=WorkerConfig(memory_bytes=256 << 20, required=LAYERS),
)


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    """A one-worker pool whose parent holds a secret in its environment."""
    os.environ["ASSAY_SANDBOX_TEST_SECRET"] = SECRET
    pool = SandboxPool(TEST_CONFIG)
    reason = pool.unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the sandbox must work in CI: {reason}")
        pytest.skip(f"the sandbox is unavailable here: {reason}")
    yield pool
    pool.close()
    os.environ.pop("ASSAY_SANDBOX_TEST_SECRET", None)
