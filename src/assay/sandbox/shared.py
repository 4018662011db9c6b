"""The process's one sandbox pool: configured by the entry point (`api/app.py`, `cli/`), used everywhere else."""

from __future__ import annotations

import threading

from assay.sandbox.lockdown import LAYERS
from assay.sandbox.pool import PoolConfig, SandboxPool
from assay.sandbox.process import WorkerConfig

_lock = threading.Lock()
_config = PoolConfig(worker=WorkerConfig(required=LAYERS))
_pool: SandboxPool | None = None


def configure(config: PoolConfig) -> None:
    """Use `config` for the pool; an existing pool with another configuration is closed."""
    global _config, _pool
    with _lock:
        if config == _config:
            return
        _config = config
        old, _pool = _pool, None
    if old is not None:
        old.close()


def shared_pool() -> SandboxPool:
    """The pool (workers start on its first call)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = SandboxPool(_config)
        return _pool
