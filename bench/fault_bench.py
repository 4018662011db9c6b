"""Fault-storm benchmark: a /v1 run through a real `assay serve` with a fault-free LLM server, then under a fault mix.

Each case is two LLM calls (the agent, then the default judge), as in bench/run_bench.py. The fault mix, drawn
per request from a seeded RNG by the fake server: 20 % 429 with `Retry-After: 1`, 5 % 500, 5 % held open until the
caller gives up (`--hang-s`, longer than the agent's `--timeout-s`), 5 % malformed answers. Prints, per suite size,
the fault-free and fault-mix wall times (median of --repeat), their ratio, the requests per second the fake server
saw, the cases scored and errored, and checks that every case was scored or errored with a reason.

    .venv/bin/python bench/fault_bench.py                  # N = 200 and 400, median of 3
    .venv/bin/python bench/fault_bench.py --quick          # N = 40, one repeat (a smoke run)

However large N is, a run lasts at least as long as its unluckiest case, whose chain of calls may meet two or three
hangs (each up to --timeout-s or --hang-s); at N = 40 that alone is many times the fault-free time, so --quick checks
only that every case was scored or errored with a reason, and the 5x target is checked for the full sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _suite_setup import CONCURRENCY, AssayServer, prepare_suite  # noqa: E402

from assay.testing.fake_llm import FakeLLMServer  # noqa: E402


def fault_mix(hang_s: float) -> dict[str, Any]:
    """The fault mix of the benchmark (rates per request)."""
    return {
        "rate_429": 0.20,
        "retry_after_s": 1,
        "rate_500": 0.05,
        "rate_timeout": 0.05,
        "timeout_s": hang_s,
        "rate_malformed": 0.05,
        "malformed_mode": "auto",
    }


@dataclass
class RunOutcome:
    wall_s: float
    requests: int
    by_status: dict[str, int]
    scored: int
    errored: int
    unexplained: list[dict[str, Any]]

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.wall_s


def checked(response: httpx.Response) -> Any:
    """The JSON body of a 2xx answer; anything else stops the benchmark with the status and body."""
    if not response.is_success:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text}"
        )
    return response.json()


async def run_suite(server: AssayServer, fake: FakeLLMServer, suite_id: str, n: int) -> RunOutcome:
    """Run the suite to the end; count what the fake server saw and how every case ended."""
    headers = {"X-Api-Key": server.key}
    fake.reset()
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=60) as http:
        started = time.perf_counter()
        task_id = checked(await http.post(f"/v1/evaluations/{suite_id}/run"))["task_id"]
        while True:
            task = checked(await http.get(f"/v1/tasks/{task_id}"))
            if task["status"] in {"completed", "failed", "cancelled"}:
                break
            await asyncio.sleep(0.05)
        wall = time.perf_counter() - started
        assert task["status"] == "completed", task
        results = checked(await http.get(f"/v1/evaluations/{suite_id}/results"))
    stats = fake.stats()
    assert len(results) == n, f"{len(results)} results for {n} cases"
    scored = [r for r in results if r["status"] != "error" and r["score"] is not None]
    errored = [r for r in results if r["status"] == "error" and (r["error"] or r["score_reason"])]
    unexplained = [r for r in results if r not in scored and r not in errored]
    return RunOutcome(wall, stats["total"], stats["by_status"], len(scored), len(errored), unexplained)


async def measure(fake: FakeLLMServer, n: int, repeat: int, args: argparse.Namespace) -> list[RunOutcome]:
    server = AssayServer(fake.base_url)
    try:
        suites = [
            await prepare_suite(
                server, fake.base_url, n, name=f"faults {n}", concurrency=args.cases_in_flight, timeout_s=args.timeout_s
            )
            for _ in range(repeat)
        ]
        return [await run_suite(server, fake, suite_id, n) for suite_id in suites]
    finally:
        server.stop()


def median_run(runs: list[RunOutcome]) -> RunOutcome:
    return sorted(runs, key=lambda r: r.wall_s)[len(runs) // 2]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 40, one repeat")
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 400])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=200, help="the fake model's answer time")
    parser.add_argument("--timeout-s", type=float, default=10, help="the agent instance's per-attempt timeout")
    parser.add_argument(
        "--cases-in-flight",
        type=int,
        default=CONCURRENCY,
        help="the suite's concurrency (cases in progress); each endpoint still allows 50 requests",
    )
    parser.add_argument("--hang-s", type=float, default=10, help="how long a hung request is held before a 504")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    sizes, repeat = ([40], 1) if args.quick else (args.sizes, args.repeat)

    print(
        f"latency {args.latency_ms:g} ms, agent timeout {args.timeout_s:g} s, hangs {args.hang_s:g} s, "
        f"{CONCURRENCY} requests per endpoint, {args.cases_in_flight} cases in flight, median of {repeat}"
    )
    print(
        f"{'N':>5} {'fault-free s':>13} {'fault-mix s':>12} {'ratio':>6} {'req/s free':>11} {'req/s mix':>10}"
        f" {'scored':>7} {'errored':>8}   statuses seen under the mix"
    )
    failures = []
    for n in sizes:
        with FakeLLMServer(scenario={"latency_ms": args.latency_ms}) as fake:
            clean = await measure(fake, n, repeat, args)
        scenario = {"latency_ms": args.latency_ms, "seed": args.seed, "faults": fault_mix(args.hang_s)}
        with FakeLLMServer(scenario=scenario) as fake:
            stormy = await measure(fake, n, repeat, args)
        free, mix = median_run(clean), median_run(stormy)
        ratio = mix.wall_s / free.wall_s
        statuses = ", ".join(f"{k}: {v}" for k, v in mix.by_status.items())
        print(
            f"{n:>5} {free.wall_s:>13.2f} {mix.wall_s:>12.2f} {ratio:>6.2f} {free.requests_per_s:>11.1f}"
            f" {mix.requests_per_s:>10.1f} {mix.scored:>7} {mix.errored:>8}   {statuses}",
            flush=True,
        )
        for run in (*clean, *stormy):
            if run.unexplained:
                failures.append(f"N={n}: {len(run.unexplained)} cases neither scored nor errored with a reason")
        if ratio > 5 and not args.quick:
            failures.append(f"N={n}: the fault mix took {ratio:.1f}x the fault-free time (target: within 5x)")
    for failure in failures:
        print("FAIL:", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    asyncio.run(main())
