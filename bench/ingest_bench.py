"""Benchmark ingestion with online evaluation: events/s through `/batch/` and time to each `$ai_evaluation`.

`assay serve` runs in a subprocess on a fresh SQLite database, with one enabled Hog evaluation sampled at
10 % and one LLM-judge evaluation sampled at 1 % (the fake LLM server answers). Batches of 100 realistic
`$ai_generation` events (a few KB each) are sent by several concurrent clients. Afterwards the database is
read to check that every expected (evaluation, event) pair has exactly one `$ai_evaluation` event, and
how long after its target was stored each one was.

Also reports the CPU each process spent per ingested event. ``--worker-process`` serves with
``ASSAY_WORKERS=0`` and runs the evaluations in a separate ``assay worker``; ``--no-online`` measures
ingestion alone; ``--profile FILE`` samples the server (and the worker) with py-spy when it is installed.
``--crud-every N`` makes each client also create a dataset and a dataset item after every N-th batch (the
mixed load of ``tests/online/test_sqlite_load.py``); every run reports failed requests and request latency.
``--clients 50 --crud-every 2`` checks that many concurrent writers never meet the pool timeout.

Usage: ``.venv/bin/python bench/ingest_bench.py [--events 50000] [--clients 8] [--crud-every N] [--worker-process]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from typing import Any

import httpx

from assay.ingest.triggers import in_rollout
from assay.testing.fake_llm import FakeLLMServer, free_port

BATCH = 100
HOG_ROLLOUT = 10.0
JUDGE_ROLLOUT = 1.0
HOG_SOURCE = """
let text := lower(output)
let banned := ['as an ai', 'i cannot', 'lorem ipsum']
let hits := arrayFilter(b -> text like concat('%', b, '%'), banned)
print(f'{length(text)} chars, {length(hits)} banned phrases')
return length(hits) = 0 and length(text) > 10
"""
FILLER = "Hedgehogs are small spiny mammals that eat insects, sleep in the day and roll into a ball. " * 8


class Server:
    """`assay serve` in a subprocess with an environment, its project token and a key."""

    def __init__(self, fake_url: str, *, online: bool = True, worker_process: bool = False) -> None:
        self.dir = tempfile.mkdtemp(prefix="assay-ingest-bench-")
        self.db = f"{self.dir}/bench.db"
        self.port = free_port()
        self.env = {
            **os.environ,
            "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{self.db}",
            "ASSAY_JUDGE_MODEL": "openai/judge-model",
            "ASSAY_JUDGE_BASE_URL": fake_url,
            "ASSAY_JUDGE_API_KEY": "sk-bench",
            "ASSAY_LOG_LEVEL": "warning",
            "ASSAY_ONLINE_EVALUATION": "true" if online else "false",
        }
        cli = [sys.executable, "-m", "assay.cli"]
        subprocess.run([*cli, "env", "create", "bench"], env=self.env, check=True, capture_output=True)
        out = subprocess.run(
            [*cli, "keys", "create", "-e", "bench", "--json"], env=self.env, check=True, capture_output=True, text=True
        ).stdout
        self.key = json.loads(out)["key"]
        with sqlite3.connect(self.db) as conn:
            env_id, self.token = conn.execute("SELECT id, project_token FROM environments").fetchone()
        self.env_id = str(uuid.UUID(str(env_id)))
        serve_env = {**self.env, "ASSAY_WORKERS": "0"} if worker_process else self.env
        self.proc = subprocess.Popen(
            [*cli, "serve", "--port", str(self.port)],
            env=serve_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # With --worker-process, the scheduler and evaluations run in `assay worker`, not in the web server.
        self.worker = (
            subprocess.Popen([*cli, "worker"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if worker_process and online
            else None
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)

    def stop(self) -> None:
        for proc in (self.proc, self.worker):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile(path: str, pid: int) -> subprocess.Popen[bytes]:
    """Start py-spy (when installed next to this Python) sampling `pid` into `path`."""
    spy = os.path.join(os.path.dirname(sys.executable), "py-spy")
    fmt = "flamegraph" if path.endswith(".svg") else "raw"
    return subprocess.Popen(
        [spy, "record", "-o", path, "-f", fmt, "-p", str(pid), "-r", "100"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def generation(i: int) -> dict[str, Any]:
    return {
        "event": "$ai_generation",
        "distinct_id": f"user-{uuid.uuid4().hex[:12]}",
        "uuid": str(uuid.uuid4()),
        "properties": {
            "$ai_trace_id": f"trace-{i}",
            "$ai_model": "gpt-4o-mini",
            "$ai_provider": "openai",
            "$ai_input": [
                {"role": "system", "content": "You are a helpful assistant. " + FILLER},
                {"role": "user", "content": f"Question {i}: tell me about hedgehogs."},
            ],
            "$ai_output_choices": [{"role": "assistant", "content": f"Answer {i}: " + FILLER}],
            "$ai_input_tokens": 420,
            "$ai_output_tokens": 230,
            "$ai_latency": 1.23,
            "$ai_total_cost_usd": 0.0012,
            "$ai_http_status": 200,
            "$ai_base_url": "https://api.openai.com/v1",
        },
    }


async def create_evaluations(server: Server) -> tuple[str, str]:
    headers = {"X-Api-Key": server.key}
    api = f"{server.base}/api/environments/{server.env_id}/evaluations"
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        hog = {
            "name": "hog 10%",
            "evaluation_type": "hog",
            "evaluation_config": {"source": HOG_SOURCE},
            "output_type": "boolean",
            "enabled": True,
            "conditions": [{"id": "c1", "rollout_percentage": HOG_ROLLOUT, "properties": []}],
        }
        judge = {
            "name": "judge 1%",
            "evaluation_type": "llm_judge",
            "evaluation_config": {"prompt": "Is the answer about hedgehogs?"},
            "output_type": "boolean",
            "enabled": True,
            "conditions": [
                {
                    "id": "c2",
                    "rollout_percentage": JUDGE_ROLLOUT,
                    "properties": [{"key": "$ai_model", "value": "gpt-4o-mini", "operator": "exact", "type": "event"}],
                }
            ],
        }
        ids = []
        for body in (hog, judge):
            r = await http.post(api, json=body)
            r.raise_for_status()
            ids.append(r.json()["id"])
    return ids[0], ids[1]


async def ingest(
    server: Server, batches: list[list[dict[str, Any]]], clients: int, crud_every: int = 0
) -> tuple[float, list[float], list[str]]:
    """Send the batches from `clients` concurrent clients: (wall time, request latencies, failures)."""
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for b in batches:
        queue.put_nowait(b)
    bodies = {id(b): json.dumps({"api_key": server.token, "batch": b}).encode() for b in batches}
    latencies: list[float] = []
    failures: list[str] = []
    api = f"/api/environments/{server.env_id}"
    auth = {"X-Api-Key": server.key}

    async def request(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            r = await http.request(method, url, **kwargs)
        except httpx.HTTPError as e:
            failures.append(f"{method} {url}: {type(e).__name__}")
            return None
        latencies.append(time.perf_counter() - started)
        if r.is_error:
            failures.append(f"{method} {url}: {r.status_code}")
        return r

    async def worker(http: httpx.AsyncClient) -> None:
        sent = 0
        while not queue.empty():
            batch = queue.get_nowait()
            await request(
                http, "POST", "/batch/", content=bodies[id(batch)], headers={"Content-Type": "application/json"}
            )
            sent += 1
            if crud_every and sent % crud_every == 0:
                r = await request(
                    http, "POST", f"{api}/datasets", json={"name": f"bench-{uuid.uuid4().hex[:8]}"}, headers=auth
                )
                if r is not None and r.status_code == 201:
                    await request(
                        http,
                        "POST",
                        f"{api}/dataset_items",
                        json={"dataset": r.json()["id"], "input": {"q": sent}},
                        headers=auth,
                    )

    async with httpx.AsyncClient(
        base_url=server.base, timeout=120, limits=httpx.Limits(max_connections=clients)
    ) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(clients)))
        return time.perf_counter() - started, latencies, failures


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace(" ", "T"))


def evaluations_in(db: str) -> list[tuple[str, str, datetime, datetime]]:
    """(evaluation id, target uuid, target stored at, evaluation stored at) for every `$ai_evaluation`."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            """SELECT json_extract(e.properties, '$."$ai_evaluation_id"'), t.uuid, t.created_at, e.created_at
               FROM events e JOIN events t
                 ON t.uuid = replace(json_extract(e.properties, '$."$ai_target_event_id"'), '-', '')
                    OR t.uuid = json_extract(e.properties, '$."$ai_target_event_id"')
               WHERE e.event = '$ai_evaluation'"""
        ).fetchall()
    return [(a, str(uuid.UUID(str(b))), _ts(c), _ts(d)) for a, b, c, d in rows]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--no-online", action="store_true", help="baseline: the scheduler off, ingestion only")
    parser.add_argument(
        "--crud-every",
        type=int,
        default=0,
        metavar="N",
        help="each client also creates a dataset and an item after every N-th batch",
    )
    parser.add_argument(
        "--worker-process", action="store_true", help="run online evaluation in a separate `assay worker` process"
    )
    parser.add_argument(
        "--profile",
        help="py-spy profile of the server (and FILE.worker of the worker) to FILE: "
        "an SVG flame graph when FILE ends in .svg, else raw collapsed stacks",
    )
    args = parser.parse_args()
    events = [generation(i) for i in range(args.events)]
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    size = statistics.mean(len(json.dumps(e)) for e in events[:100])
    with FakeLLMServer(scenario={"latency_ms": 50}) as fake:
        server = Server(fake.base_url, online=not args.no_online, worker_process=args.worker_process)
        spies: list[subprocess.Popen[bytes]] = []
        try:
            hog_id, judge_id = await create_evaluations(server)
            if args.profile:
                targets = [(args.profile, server.proc)]
                if server.worker is not None:
                    targets.append((f"{args.profile}.worker", server.worker))
                spies = [profile(path, proc.pid) for path, proc in targets]
            pids = [p.pid for p in (server.proc, server.worker) if p is not None]
            cpu_before = [cpu_seconds(pid) for pid in pids]
            elapsed, latencies, failures = await ingest(server, batches, args.clients, args.crud_every)
            cpu_used = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
            cpu_note = " / ".join(f"{c / args.events * 1e6:.0f}" for c in cpu_used)
            requests_note = (
                f"{len(latencies) + len(failures)} requests, {len(failures)} failed "
                f"{failures[:3]}, latency p50 / p95 / max {percentile(latencies, 0.5):.2f} s / "
                f"{percentile(latencies, 0.95):.2f} s / {max(latencies, default=float('nan')):.2f} s"
            )
            if args.no_online:
                print(
                    f"baseline (no online evaluation): {args.events / elapsed:,.0f} events/s, "
                    f"server CPU {cpu_note} µs/event; {requests_note}"
                )
                return
            expected = {(hog_id, e["uuid"]) for e in events if in_rollout(e["distinct_id"], HOG_ROLLOUT)}
            expected |= {(judge_id, e["uuid"]) for e in events if in_rollout(e["distinct_id"], JUDGE_ROLLOUT)}
            deadline = time.monotonic() + args.timeout
            while True:
                found = evaluations_in(server.db)
                if len(found) >= len(expected) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
        finally:
            for spy in spies:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
            server.stop()
    pairs = [(a, b) for a, b, _, _ in found]
    latencies = {k: [(d - c).total_seconds() for a, _, c, d in found if a == k] for k in (hog_id, judge_id)}
    missing = expected - set(pairs)
    duplicates = len(pairs) - len(set(pairs))
    unexpected = set(pairs) - expected
    rate = args.events / elapsed
    print(f"\n{args.events} events in batches of {BATCH}, ~{size / 1024:.1f} KB each, {args.clients} clients, SQLite\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| ingest rate (events/s through /batch/) | {rate:,.0f} |")
    print(f"| ingest wall time | {elapsed:.1f} s |")
    print(f"| requests (with --crud-every {args.crud_every}) | {requests_note} |")
    print(f"| CPU per event while ingesting (server{' / worker' if server.worker else ''}) | {cpu_note} µs |")
    print(f"| expected evaluations (hog 10 % / judge 1 %) | {len(expected)} |")
    print(f"| `$ai_evaluation` events found | {len(pairs)} |")
    print(f"| missing / duplicated / unexpected | {len(missing)} / {duplicates} / {len(unexpected)} |")
    for label, key in (("hog", hog_id), ("judge", judge_id)):
        lat = latencies[key]
        print(
            f"| {label}: event → `$ai_evaluation` p50 / p95 / max | "
            f"{percentile(lat, 0.5):.2f} s / {percentile(lat, 0.95):.2f} s / {max(lat, default=float('nan')):.2f} s |"
        )


if __name__ == "__main__":
    asyncio.run(main())
