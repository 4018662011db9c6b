"""A warm pool of sandboxed workers: one thread per worker feeds it batches of calls from a queue.

A worker serves one tenant (an environment) at a time, because module state outlives a call inside a worker:
before a worker takes another tenant's calls it is replaced by a fresh one. A worker that timed out, crashed
or broke the protocol is killed and replaced at once; the calls queued behind a failed call run on the
replacement. Workers are also replaced after many calls or much CPU time, before the CPU rlimit ends them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import itertools
import threading
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from assay.sandbox.process import CallResult, SandboxUnavailable, WorkerConfig, WorkerProcess


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """Size and limits of the pool."""

    workers: int = 2
    timeout_seconds: float = 1.0
    """Wall-clock limit of one call, enforced by the parent (SIGKILL)."""
    max_batch: int = 64
    """Calls sent to a worker in one message."""
    max_calls_per_worker: int = 100_000
    max_functions_per_worker: int = 256
    worker: WorkerConfig = WorkerConfig()


@dataclass(slots=True)
class _Call:
    tenant: str
    message: dict[str, Any]
    future: Future[CallResult] | asyncio.Future[CallResult]
    loop: asyncio.AbstractEventLoop | None = None
    """Set for an asyncio future, which is resolved on its loop (one wake-up per batch, not per call)."""
    alone: bool = False
    """Run in a message of its own: it was unanswered when a worker failed, so it may be the cause."""


@functools.lru_cache(maxsize=1024)
def function_key(source: str) -> str:
    """The key a worker keeps a compiled evaluator under."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _resolve(pairs: list[tuple[asyncio.Future[CallResult], CallResult]]) -> None:
    for future, result in pairs:
        if not future.done():
            future.set_result(result)


class SandboxPool:
    """Run evaluator source in sandboxed workers; thread-safe, and usable from asyncio (`evaluate`)."""

    def __init__(self, config: PoolConfig | None = None) -> None:
        self.config = config or PoolConfig()
        self._cond = threading.Condition()
        self._queues: dict[str, deque[_Call]] = {}
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._ids = itertools.count(1)
        self._layers: dict[str, str] | None = None
        self._unavailable: str | None = None
        self.spawned = 0
        self.replaced = 0
        self._live: dict[int, WorkerProcess] = {}

    # ---- submitting

    def _message(
        self, source: str, kwargs: Mapping[str, Any], scale: float, threshold: float, timeout: float | None
    ) -> dict[str, Any]:
        return {
            "id": next(self._ids),
            "fn": function_key(source),
            "source": source,
            "kwargs": kwargs,
            "scale": scale,
            "threshold": threshold,
            "timeout": timeout or self.config.timeout_seconds,
        }

    def _enqueue(self, calls: list[_Call]) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the sandbox pool is closed")
            self._start_locked()
            for call in calls:
                self._queues.setdefault(call.tenant, deque()).append(call)
            self._cond.notify(len(calls))

    def submit(
        self,
        tenant: str,
        source: str,
        kwargs: Mapping[str, Any],
        *,
        scale: float = 1,
        threshold: float = 0.5,
        timeout: float | None = None,
    ) -> Future[CallResult]:
        """Queue one call of `evaluate(**kwargs)` defined by `source`; the future never raises.

        `scale` is a full score (1 or 100); a number passes at `score >= threshold`; `timeout` is the
        wall-clock limit of this call (default: the pool's).
        """
        future: Future[CallResult] = Future()
        self._enqueue([_Call(tenant, self._message(source, kwargs, scale, threshold, timeout), future)])
        return future

    def submit_many(
        self, tenant: str, source: str, calls: list[Mapping[str, Any]], *, scale: float = 1, threshold: float = 0.5
    ) -> list[Future[CallResult]]:
        """`submit` for many kwargs mappings at once."""
        queued = [_Call(tenant, self._message(source, kw, scale, threshold, None), Future()) for kw in calls]
        self._enqueue(queued)
        return [call.future for call in queued]  # type: ignore[misc]

    async def evaluate(
        self,
        tenant: str,
        source: str,
        kwargs: Mapping[str, Any],
        *,
        scale: float = 1,
        threshold: float = 0.5,
        timeout: float | None = None,
    ) -> CallResult:
        """`submit`, awaited."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[CallResult] = loop.create_future()
        self._enqueue([_Call(tenant, self._message(source, kwargs, scale, threshold, timeout), future, loop)])
        return await future

    def run_many(
        self, tenant: str, source: str, calls: list[Mapping[str, Any]], *, scale: float = 1, threshold: float = 0.5
    ) -> list[CallResult]:
        """Run `source` on every kwargs mapping of `calls`, blocking until all are done."""
        return [f.result() for f in self.submit_many(tenant, source, calls, scale=scale, threshold=threshold)]

    # ---- status

    def layers(self) -> dict[str, str]:
        """What each layer of a worker reports (starts one to find out, once per pool)."""
        if self._layers is None and self._unavailable is None:
            try:
                probe = WorkerProcess(self.config.worker)
            except SandboxUnavailable as exc:
                self._unavailable = str(exc)
                self._layers = exc.layers
            except OSError as exc:
                self._unavailable = f"the sandbox worker could not be started: {exc}"
                self._layers = {}
            else:
                self._layers = probe.layers
                probe.kill()
        return dict(self._layers or {})

    def unavailable_reason(self) -> str | None:
        """None when workers start with every required layer, else the reason they do not."""
        self.layers()
        return self._unavailable

    def check(self) -> None:
        """Raise SandboxUnavailable (naming the missing layer) unless evaluators can run."""
        reason = self.unavailable_reason()
        if reason is not None:
            raise SandboxUnavailable(reason)

    # ---- workers

    def _start_locked(self) -> None:
        if self._threads:
            return
        for index in range(self.config.workers):
            thread = threading.Thread(target=self._serve, name=f"assay-sandbox-{index}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _take(self, tenant: str | None) -> tuple[str, list[_Call]] | None:
        """The next batch: the worker's own tenant first, else the tenant waiting longest."""
        with self._cond:
            while True:
                if self._closed:
                    return None
                queue = self._queues.get(tenant) if tenant is not None else None
                if not queue:
                    queue = next((q for q in self._queues.values() if q), None)
                if queue:
                    batch = [queue.popleft()]
                    while queue and len(batch) < self.config.max_batch and not batch[0].alone and not queue[0].alone:
                        batch.append(queue.popleft())
                    return batch[0].tenant, batch
                self._cond.wait()

    def _requeue(self, calls: list[_Call]) -> None:
        with self._cond:
            for call in reversed(calls):
                call.alone = True
                self._queues.setdefault(call.tenant, deque()).appendleft(call)
            self._cond.notify_all()

    def _spawn(self) -> WorkerProcess | None:
        try:
            worker = WorkerProcess(self.config.worker)
        except SandboxUnavailable as exc:
            self._unavailable = str(exc)
            self._layers = exc.layers
            return None
        except OSError as exc:  # no process could be started (out of memory or descriptors)
            self._unavailable = f"the sandbox worker could not be started: {exc}"
            return None
        self.spawned += 1
        self._layers = worker.layers
        self._unavailable = None
        return worker

    def _worn(self, worker: WorkerProcess) -> bool:
        cfg = self.config
        return (
            not worker.alive
            or worker.calls >= cfg.max_calls_per_worker
            or worker.cpu_seconds >= cfg.worker.cpu_seconds / 2
            or len(worker.known) >= cfg.max_functions_per_worker
        )

    def worker_cpu_seconds(self) -> float:
        """CPU time used so far by the live workers (as they last reported it)."""
        return sum(worker.cpu_seconds for worker in list(self._live.values()))

    def _serve(self) -> None:
        worker = self._spawn()
        tenant: str | None = None
        slot = threading.get_ident()
        while True:
            if worker is not None:
                self._live[slot] = worker
            taken = self._take(tenant)
            if taken is None:
                break
            batch_tenant, batch = taken
            if worker is not None and (self._worn(worker) or (tenant is not None and batch_tenant != tenant)):
                worker.kill()
                worker = None
                self.replaced += 1
            if worker is None:
                worker = self._spawn()
            if worker is None:
                error = self._unavailable or "the sandbox is unavailable"
                self._settle([(call, CallResult(ok=False, error=error, kind="unavailable")) for call in batch])
                continue
            tenant = batch_tenant
            try:
                results: list[CallResult | None] = worker.run([call.message for call in batch])
            except Exception as exc:  # a bug here must not strand the callers: fail the batch, start afresh
                worker.kill()
                error = f"the sandbox failed: {type(exc).__name__}: {exc}"
                results = [CallResult(ok=False, error=error, kind="protocol") for _ in batch]
            unrun = [call for call, result in zip(batch, results, strict=True) if result is None]
            self._settle([(call, result) for call, result in zip(batch, results, strict=True) if result is not None])
            if not worker.alive:  # replace it now, so the next call finds a warm worker
                worker = self._spawn()
                tenant = None
                self.replaced += 1
            if unrun:
                self._requeue(unrun)
        if worker is not None:
            worker.kill()

    @staticmethod
    def _settle(done: list[tuple[_Call, CallResult]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[CallResult], CallResult]]] = {}
        for call, result in done:
            if call.loop is None:
                call.future.set_result(result)
            else:
                by_loop.setdefault(call.loop, []).append((call.future, result))  # type: ignore[arg-type]
        for loop, pairs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, pairs)
            except RuntimeError:  # the loop is closed: nobody waits for these any more
                pass

    def close(self) -> None:
        """Stop the threads and kill the workers; queued calls fail."""
        with self._cond:
            self._closed = True
            pending = [call for queue in self._queues.values() for call in queue]
            self._queues.clear()
            self._cond.notify_all()
        self._settle(
            [(c, CallResult(ok=False, error="the sandbox pool was closed", kind="unavailable")) for c in pending]
        )
        for thread in self._threads:
            thread.join(timeout=5)
