"""Benchmark the job queue on PostgreSQL: one run split over 1, 2 and 4 `assay worker` processes, and ingestion.

Runs: a suite of `--cases` cases (no evaluator: one agent call each) on a fake LLM server answering after
`--latency` ms; `--concurrency` cases in flight per worker process. For each worker count the database is fresh,
the workers are started and ready before the run is queued, and the wall time runs from queueing to the run's
end. The speed-up is against one worker. Latency-bound work should scale with the workers; at 0 ms the work is
CPU (Assay's per-case cost, PostgreSQL and the fake server all share the machine's cores).

Ingestion: `assay serve --processes N` with `ASSAY_WORKERS=0` on PostgreSQL and one `assay worker` running the
online evaluations (a Hog evaluation at 10 % and a judge at 1 %, as `bench/ingest_bench.py`), beside the same on
SQLite (`assay serve` with `ASSAY_WORKERS=0` and `assay worker`): events/s through `/batch/`, then how long
until every evaluation was stored.

Usage: ``ASSAY_BENCH_POSTGRES_URL=postgresql+asyncpg://… .venv/bin/python bench/workers_bench.py
[--cases 20000] [--latency 200,0] [--workers 1,2,4] [--events 20000] [--servers 1,2]``
(the PostgreSQL URL defaults to ASSAY_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_bench import BATCH, create_evaluations, generation, ingest  # noqa: E402

from assay.engine.queue.schema import apply_queue_schema_at  # noqa: E402
from assay.services.runs import start_run  # noqa: E402
from assay.services.test_cases import MAX_IMPORT_CASES, import_test_cases  # noqa: E402
from assay.settings import Settings  # noqa: E402
from assay.storage import environments as env_store  # noqa: E402
from assay.storage import instances as instance_store  # noqa: E402
from assay.storage import suites as suite_store  # noqa: E402
from assay.storage.db import make_engine, make_sessionmaker  # noqa: E402
from assay.storage.migrate import upgrade  # noqa: E402
from assay.storage.run_tables import RunRow  # noqa: E402
from assay.testing.fake_llm import FakeLLMServer, free_port  # noqa: E402

SECRET = "workers-bench-secret"
CLI = [sys.executable, "-m", "assay.cli"]


async def fresh_database(admin_url: str, name: str) -> str:
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    admin = make_engine(admin_url)
    try:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    await apply_queue_schema_at(url)
    return url


def process_env(database_url: str, **extra: str) -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {
        **os.environ,
        "PYTHONPATH": src,
        "ASSAY_DATABASE_URL": database_url,
        "ASSAY_SECRET_KEY": SECRET,
        "ASSAY_LOG_LEVEL": "warning",
        **extra,
    }


def start_workers(database_url: str, count: int, concurrency: int, **extra: str) -> list[subprocess.Popen[bytes]]:
    env = process_env(database_url, **extra)
    return [
        subprocess.Popen(
            [*CLI, "worker", "--concurrency", str(concurrency)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for proc in processes:
        proc.terminate()
    for proc in processes:
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


async def wait_for_workers(database_url: str, count: int, timeout: float = 300) -> None:
    engine = make_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            async with engine.connect() as conn:
                alive = await conn.scalar(
                    text("SELECT count(*) FROM worker_processes WHERE heartbeat_at > now() - interval '5 seconds'")
                )
            if alive >= count:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {alive} of {count} workers started")
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


async def seed_run_suite(database_url: str, fake_url: str, cases: int, concurrency: int) -> tuple[Any, Any]:
    """An environment, an instance on the fake server and a suite of `cases` cases; (environment id, suite id)."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            env = await env_store.create_environment(session=session, name="bench")
            config = {"base_url": fake_url, "model": "agent-model", "max_concurrency": 1024}
            instance = await instance_store.create_instance(
                session=session,
                environment_id=env.id,
                name="agent",
                kind="openai_chat",
                config=config,
                secrets={},
                secret_key=SECRET,
            )
            suite = await suite_store.create_suite(
                session=session,
                environment_id=env.id,
                fields={"name": "bench", "instance_id": instance.id, "config": {}},
            )
            await session.commit()
            for start in range(0, cases, MAX_IMPORT_CASES):  # one import takes at most this many
                numbers = range(start, min(cases, start + MAX_IMPORT_CASES))
                lines = "\n".join(json.dumps({"input_message": f"case-{i}"}) for i in numbers)
                await import_test_cases(
                    session=session,
                    environment_id=env.id,
                    suite_id=suite.id,
                    filename="cases.jsonl",
                    content=lines.encode(),
                )
            return env.id, suite.id
    finally:
        await engine.dispose()


async def timed_run(database_url: str, env_id: Any, suite_id: Any, concurrency: int) -> tuple[float, str, int]:
    """Queue the run (the workers' periodic pass dispatches it) and wait for its end: (seconds, status, results)."""
    settings = Settings(database_url=database_url, secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(database_url)
    try:
        sessionmaker = make_sessionmaker(engine)
        started = time.perf_counter()
        async with sessionmaker() as session:
            run = await start_run(
                session=session, environment_id=env_id, suite_id=suite_id, settings=settings, concurrency=concurrency
            )
        while True:
            async with sessionmaker() as session:
                row = await session.get(RunRow, run.id, populate_existing=True)
                assert row is not None
                if row.status in ("completed", "failed", "cancelled"):
                    return time.perf_counter() - started, row.status, row.completed_cases
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


async def bench_runs(admin_url: str, cases: int, latency: float, workers: list[int], concurrency: int) -> list[dict]:
    rows = []
    with FakeLLMServer(scenario={"latency_ms": latency, "default_reply": "ok", "log_limit": 10}) as fake:
        for count in workers:
            url = await fresh_database(admin_url, f"assay_workers_bench_{count}")
            env_id, suite_id = await seed_run_suite(url, fake.base_url, cases, concurrency)
            procs = start_workers(url, count, concurrency, ASSAY_ONLINE_EVALUATION="false")
            try:
                await wait_for_workers(url, count)
                seconds, status, done = await timed_run(url, env_id, suite_id, concurrency)
            finally:
                stop(procs)
            rows.append({"latency_ms": latency, "workers": count, "seconds": seconds, "status": status, "done": done})
            print(f"  {latency:g} ms, {count} worker(s): {seconds:.1f} s, {status}, {done} results", flush=True)
    return rows


class IngestServer:
    """`assay serve` (`--processes N`) with ASSAY_WORKERS=0, one `assay worker`, an environment and a key."""

    def __init__(self, database_url: str, fake_url: str, processes: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = process_env(
            database_url,
            ASSAY_JUDGE_MODEL="openai/judge-model",
            ASSAY_JUDGE_BASE_URL=fake_url,
            ASSAY_JUDGE_API_KEY="sk-bench",
            ASSAY_WORKERS="0",
        )
        subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True)
        out = subprocess.run([*CLI, "env", "create", "bench", "--json"], env=env, check=True, capture_output=True)
        created = json.loads(out.stdout)
        self.env_id, self.token = created["id"], created["project_token"]
        out = subprocess.run(
            [*CLI, "keys", "create", "-e", "bench", "--json"], env=env, check=True, capture_output=True
        )
        self.key = json.loads(out.stdout)["key"]
        serve = [*CLI, "serve", "--port", str(self.port)] + (["--processes", str(processes)] if processes > 1 else [])
        self.procs = [subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        self.procs.append(
            subprocess.Popen([*CLI, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)

    def stop(self) -> None:
        stop(self.procs)


async def evaluations_stored(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text("SELECT count(*) FROM events WHERE event = '$ai_evaluation'")) or 0)
    finally:
        await engine.dispose()


async def expected_evaluations(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text("SELECT count(*) FROM evaluation_runs")) or 0)
    finally:
        await engine.dispose()


async def bench_ingest(database_url: str, fake_url: str, events: int, processes: int, label: str) -> dict[str, Any]:
    server = IngestServer(database_url, fake_url, processes)
    try:
        await create_evaluations(server)  # type: ignore[arg-type]
        generated = [generation(i) for i in range(events)]
        batches = [generated[i : i + BATCH] for i in range(0, len(generated), BATCH)]
        seconds, _, failures = await ingest(server, batches, clients=8)  # type: ignore[arg-type]
        drained_at = time.perf_counter()
        # Every evaluation run queued has stored its `$ai_evaluation` (or the wait gives up after two minutes).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            queued = await expected_evaluations(database_url)
            if queued and await evaluations_stored(database_url) >= queued:
                break
            await asyncio.sleep(0.5)
        lag = time.perf_counter() - drained_at
    finally:
        server.stop()
    row = {
        "setup": label,
        "events_per_s": events / seconds,
        "failures": len(failures),
        "evaluations": await evaluations_stored(database_url),
        "evaluated_after_s": lag,
    }
    print(f"  {label}: {row['events_per_s']:.0f} events/s, evaluations done {lag:.1f} s later", flush=True)
    return row


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--latency", default="200,0", help="fake LLM latencies in ms, comma-separated")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=50, help="cases in flight per worker process")
    parser.add_argument("--events", type=int, default=20_000, help="0 skips the ingestion part")
    parser.add_argument("--servers", default="1,2", help="server process counts for ingestion on PostgreSQL")
    args = parser.parse_args()
    admin_url = os.environ.get("ASSAY_BENCH_POSTGRES_URL") or os.environ.get("ASSAY_TEST_POSTGRES_URL")
    if not admin_url:
        raise SystemExit("set ASSAY_BENCH_POSTGRES_URL (or ASSAY_TEST_POSTGRES_URL) to a PostgreSQL server")
    counts = [int(n) for n in args.workers.split(",")]
    runs: list[dict[str, Any]] = []
    for latency in (float(v) for v in args.latency.split(",")):
        print(f"runs of {args.cases} cases at {latency:g} ms, {args.concurrency} in flight per worker", flush=True)
        runs += await bench_runs(admin_url, args.cases, latency, counts, args.concurrency)
    ingestion: list[dict[str, Any]] = []
    if args.events:
        with FakeLLMServer(scenario={"latency_ms": 20, "log_limit": 10}) as fake:
            for processes in (int(n) for n in args.servers.split(",")):
                url = await fresh_database(admin_url, f"assay_ingest_bench_{processes}")
                label = f"PostgreSQL, {processes} server process(es) + 1 worker"
                ingestion.append(await bench_ingest(url, fake.base_url, args.events, processes, label))
            sqlite = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='assay-workers-bench-')}/bench.db"
            ingestion.append(await bench_ingest(sqlite, fake.base_url, args.events, 1, "SQLite, 1 server + 1 worker"))

    print()
    print("| latency | workers | cases | wall (s) | speed-up | cases/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    base: dict[float, float] = {}
    for row in runs:
        base.setdefault(row["latency_ms"], row["seconds"])
        speedup = base[row["latency_ms"]] / row["seconds"]
        print(
            f"| {row['latency_ms']:g} ms | {row['workers']} | {row['done']} | {row['seconds']:.1f} | "
            f"{speedup:.2f}x | {row['done'] / row['seconds']:.0f} |"
        )
    if ingestion:
        print()
        print("| ingestion with online evaluation | events/s | failed requests | evaluations | evaluated after (s) |")
        print("|---|---:|---:|---:|---:|")
        for row in ingestion:
            print(
                f"| {row['setup']} | {row['events_per_s']:.0f} | {row['failures']} | {row['evaluations']} | "
                f"{row['evaluated_after_s']:.1f} |"
            )


if __name__ == "__main__":
    asyncio.run(main())
