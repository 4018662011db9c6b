"""Run-engine benchmark: Assay through its HTTP API vs a bare openai-SDK asyncio loop, same fake server.

Each case is two LLM calls (the agent, then a JSON-schema judge), concurrency 50, in both systems.
Prints wall-time ratios (median of --repeat runs), Assay's own CPU per case at 0 ms latency, and the
server's peak memory at two suite sizes.

    .venv/bin/python bench/run_bench.py            # the full table (several minutes)
    .venv/bin/python bench/run_bench.py --quick    # small sizes, one repeat
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path

import httpx
from _suite_setup import CONCURRENCY, AssayServer, prepare_suite
from openai import AsyncOpenAI

from assay.evaluators.structured_judge import BooleanEvalResult
from assay.testing.fake_llm import FakeLLMServer

BARE_CPU: list[float] = []
JUDGE_SCHEMA = BooleanEvalResult.model_json_schema()


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def proc_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def bare_sdk(base_url: str, n: int) -> float:
    """What a hand-written loop does: agent call, then judge call with structured output, 50 at a time."""
    client = AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0)
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with limit:
            reply = await client.chat.completions.create(
                model="agent-model", messages=[{"role": "user", "content": f"question {i}"}]
            )
            text = reply.choices[0].message.content or ""
            verdict = await client.chat.completions.create(
                model="judge-model",
                temperature=0,
                messages=[
                    {"role": "system", "content": "You are an evaluator."},
                    {"role": "user", "content": f"Input: question {i}\n\nOutput: {text}"},
                ],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "verdict", "schema": JUDGE_SCHEMA, "strict": True},
                },
            )
            json.loads(verdict.choices[0].message.content or "{}")

    started = time.perf_counter()
    cpu0 = time.process_time()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - started
    BARE_CPU.append(time.process_time() - cpu0)
    await client.close()
    return elapsed


async def assay_run(server: AssayServer, suite_id: str) -> tuple[float, float]:
    """Wall seconds from `run` to completion, and the server's CPU seconds over the same span."""
    headers = {"X-Api-Key": server.key}
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=60) as http:
        cpu0 = proc_cpu_seconds(server.proc.pid)
        started = time.perf_counter()
        task_id = (await http.post(f"/v1/evaluations/{suite_id}/run")).json()["task_id"]
        while True:
            task = (await http.get(f"/v1/tasks/{task_id}")).json()
            if task["status"] in {"completed", "failed", "cancelled"}:
                break
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        cpu = proc_cpu_seconds(server.proc.pid) - cpu0
        assert task["status"] == "completed" and task["progress"]["errors"] == 0, task
        return elapsed, cpu


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [50] if args.quick else [200, 2000]
    memory_sizes = [200, 1000] if args.quick else [1000, 10000]
    repeat = 1 if args.quick else args.repeat

    print(f"{'N':>6} {'latency':>8} {'bare SDK s':>11} {'Assay s':>9} {'ratio':>7}   (median of {repeat})")
    for latency in (200, 0):
        with FakeLLMServer(scenario={"latency_ms": latency}) as fake:
            for n in sizes:
                server = AssayServer(fake.base_url)
                try:
                    suites = [await prepare_suite(server, fake.base_url, n, name=f"bench {n}") for _ in range(repeat)]
                    bare, assay, cpu = [], [], []
                    BARE_CPU.clear()
                    for suite_id in suites:
                        bare.append(await bare_sdk(fake.base_url, n))
                        wall, used = await assay_run(server, suite_id)
                        assay.append(wall)
                        cpu.append(used)
                finally:
                    server.stop()
                b, a = statistics.median(bare), statistics.median(assay)
                line = f"{n:>6} {latency:>6}ms {b:>11.2f} {a:>9.2f} {a / b:>7.3f}"
                if latency == 0:
                    server_ms = statistics.median(cpu) / n * 1000
                    bare_ms = statistics.median(BARE_CPU) / n * 1000
                    line += (
                        f"   CPU/case: Assay server {server_ms:.2f} ms, bare loop {bare_ms:.2f} ms,"
                        f" Assay's own {server_ms - bare_ms:.2f} ms"
                    )
                print(line, flush=True)

    with FakeLLMServer(scenario={"latency_ms": 0}) as fake:
        peaks = {}
        for n in memory_sizes:
            server = AssayServer(fake.base_url)
            try:
                suite_id = await prepare_suite(server, fake.base_url, n, name=f"bench {n}")
                await assay_run(server, suite_id)
                peaks[n] = proc_peak_rss_mb(server.proc.pid)
            finally:
                server.stop()
        small, large = memory_sizes
        print(
            f"peak server RSS: N={small}: {peaks[small]:.0f} MB, N={large}: {peaks[large]:.0f} MB, "
            f"ratio {peaks[large] / peaks[small]:.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
