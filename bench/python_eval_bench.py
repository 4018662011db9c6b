"""Sandboxed Python evaluators: worker start-up, per-call overhead and throughput on this machine.

Run: `nice -n 10 python bench/python_eval_bench.py [--calls 50000]`. Prints a Markdown table:
- spawn to ready: starting a worker through the launcher, preloading the allowed modules, locking down;
- one call per message: a trivial evaluator and a token overlap on a 3 KB output, each sent alone and
  waited for (the round trip through both pipes), with the time spent inside the worker;
- in-process: the same functions called directly, for comparison;
- throughput: the pool with 1 and 2 workers, calls submitted together (the pool batches them per message),
  from threads (`submit`) and from asyncio (`evaluate` with gather).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import string
import time
from typing import Any

from assay.sandbox.coerce import coerce_result
from assay.sandbox.lockdown import LAYERS
from assay.sandbox.pool import PoolConfig, SandboxPool, function_key
from assay.sandbox.process import WorkerConfig, WorkerProcess

TRIVIAL = "def evaluate(input, output, **kw):\n    return True\n"
TOKEN_OVERLAP = """
def evaluate(input, output, expected="", **kw):
    got = set(output.split())
    wanted = set(expected.split())
    common = len(got & wanted)
    return common / max(1, len(wanted)), f"{common} of {len(wanted)} expected tokens"
"""
CONFIG = WorkerConfig(required=LAYERS)


def _text(size: int, seed: int) -> str:
    rng = random.Random(seed)
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < size:
        words.append("".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))))
    return " ".join(words)[:size]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def spawn_times(n: int) -> list[float]:
    times = []
    for _ in range(n):
        worker = WorkerProcess(CONFIG)
        times.append(worker.start_ms)
        worker.kill()
    return times


def round_trips(source: str, kwargs: dict[str, Any], n: int) -> tuple[list[float], list[float]]:
    worker = WorkerProcess(CONFIG)
    key = function_key(source)
    total, inside = [], []
    try:
        for i in range(n + 200):
            call = {"id": i, "fn": key, "source": source, "kwargs": kwargs, "scale": 1, "threshold": 0.5, "timeout": 5}
            started = time.perf_counter()
            (result,) = worker.run([call])
            elapsed = (time.perf_counter() - started) * 1e6
            assert result is not None and result.ok, result
            if i >= 200:  # warm-up: first compile, caches
                total.append(elapsed)
                inside.append(result.worker_us)
    finally:
        worker.kill()
    return total, inside


def in_process(source: str, kwargs: dict[str, Any], n: int) -> float:
    namespace: dict[str, Any] = {}
    exec(compile(source, "<evaluator>", "exec"), namespace)
    function = namespace["evaluate"]
    started = time.perf_counter()
    for _ in range(n):
        coerce_result(function(**kwargs))
    return (time.perf_counter() - started) / n * 1e6


def throughput(workers: int, calls: int, kwargs: dict[str, Any], use_async: bool) -> tuple[float, float, float]:
    """Calls per second, and CPU µs per call in the parent (all its threads) and in the workers."""
    pool = SandboxPool(PoolConfig(workers=workers, worker=CONFIG))
    try:
        pool.run_many("bench", TRIVIAL, [kwargs] * (workers * 200))  # start and warm every worker
        time.sleep(0.2)
        worker_cpu = pool.worker_cpu_seconds()
        parent_cpu = time.process_time()
        started = time.perf_counter()
        if use_async:

            async def _all() -> list[Any]:
                return await asyncio.gather(*(pool.evaluate("bench", TRIVIAL, kwargs) for _ in range(calls)))

            results = asyncio.run(_all())
        else:
            results = pool.run_many("bench", TRIVIAL, [kwargs] * calls)
        elapsed = time.perf_counter() - started
        parent_cpu = time.process_time() - parent_cpu
        worker_cpu = pool.worker_cpu_seconds() - worker_cpu
        assert all(r.ok for r in results)
    finally:
        pool.close()
    return calls / elapsed, parent_cpu / calls * 1e6, worker_cpu / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=50_000, help="calls per throughput measurement")
    parser.add_argument("--round-trips", type=int, default=3000, help="single calls per latency measurement")
    args = parser.parse_args()

    output_3k = _text(3000, 1)
    expected_3k = _text(3000, 2)
    small = {"input": "hello", "output": "hello"}
    big = {"input": "question", "output": output_3k, "expected": expected_3k}

    spawn = spawn_times(10)
    trivial, trivial_in = round_trips(TRIVIAL, small, args.round_trips)
    overlap, overlap_in = round_trips(TOKEN_OVERLAP, big, args.round_trips)
    local_trivial = in_process(TRIVIAL, small, 20_000)
    local_overlap = in_process(TOKEN_OVERLAP, big, 2_000)

    print("| measurement | median | p99 |")
    print("|---|---|---|")
    print(
        f"| spawn to ready (launcher, preload, lockdown) | {statistics.median(spawn):.1f} ms | {max(spawn):.1f} ms (max of 10) |"
    )
    print(
        f"| trivial evaluator, one call per message | {statistics.median(trivial):.0f} µs | {_pct(trivial, 0.99):.0f} µs |"
    )
    print(
        f"| … of which inside the worker | {statistics.median(trivial_in):.0f} µs | {_pct(trivial_in, 0.99):.0f} µs |"
    )
    print(
        f"| token overlap on a 3 KB output, one call per message | {statistics.median(overlap):.0f} µs | {_pct(overlap, 0.99):.0f} µs |"
    )
    print(
        f"| … of which inside the worker | {statistics.median(overlap_in):.0f} µs | {_pct(overlap_in, 0.99):.0f} µs |"
    )
    overhead = statistics.median(overlap) - statistics.median(overlap_in)
    print(f"| sandbox overhead per call on a 3 KB output (round trip − inside) | {overhead:.0f} µs | |")
    print(f"| in-process: trivial / token overlap 3 KB | {local_trivial:.1f} µs / {local_overlap:.0f} µs | |")
    print()
    print(
        "| throughput, trivial evaluator, pool batching up to 64 calls per message | calls/s | CPU per call: parent + workers | calls per CPU-second |"
    )
    print("|---|---|---|---|")
    for workers in (1, 2):
        for use_async in (False, True):
            rate, parent_us, worker_us = throughput(workers, args.calls, small, use_async)
            how = "asyncio gather of `evaluate`" if use_async else "threads: `submit_many` then wait"
            per_cpu = 1e6 / (parent_us + worker_us)
            print(
                f"| {workers} worker{'s' if workers > 1 else ''}, {how} | {rate:,.0f} | "
                f"{parent_us:.0f} + {worker_us:.0f} µs | {per_cpu:,.0f} |"
            )
    print()
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
