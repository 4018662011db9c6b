"""Web UI benchmark: server time of each page and Chromium's navigation timings on two 10,000-result runs.

A suite with two runs of 10,000 results each (realistic text lengths, tags, evaluator verdicts, some hand
overrides; `assay.testing.seed`) is stored on SQLite and on PostgreSQL; `assay serve` (a real process, no
background workers) serves it; the bench signs in through `/login` like a person and measures the median of
`--repeat` requests of each page (after one warm-up; from request to the last byte of the answer, on the same
machine), then Chromium's navigation timings (responseEnd,
DOMContentLoaded, load event) of the run page and the suites page, and the server's RSS before and after.
A page this build does not serve (404) is reported as "missing".

PostgreSQL: `--postgres-url postgresql+asyncpg://…` (a fresh database is created there and dropped at the
end), or else a throwaway cluster is started like scripts/test does (needs Debian's postgresql package);
`--no-postgres` skips it.

    .venv/bin/python bench/ui_bench.py                 # the full table (a few minutes)
    .venv/bin/python bench/ui_bench.py --quick         # 1,000 results per run, 3 repeats, SQLite only
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from assay.domain.scopes import ALL_SCOPES
from assay.storage import environments as env_store
from assay.storage.db import make_engine, make_sessionmaker
from assay.storage.migrate import upgrade
from assay.testing.fake_llm import free_port
from assay.testing.seed import WORDS, seed_suite
from assay.testing.seed_events import RARE_EVERY, RARE_MODEL, SeededEvents, seed_events
from assay.testing.serve_process import wait_until_healthy
from assay.testing.throwaway_postgres import throwaway_postgres

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
SECRET = "ui-bench-secret-key-0123456789abcdef"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SEARCH_WORD = "damaged"


@dataclass(slots=True)
class Page:
    """One measured page: its label, path and target (ms, None for none). A `{word}` in the path is replaced
    by a different word on every request, so no cache answers it twice."""

    label: str
    path: str
    target_ms: float | None = None

    def url(self, request: int) -> str:
        """The path of the request numbered `request` (the warm-up is 0)."""
        return self.path.replace("{word}", WORDS[request % len(WORDS)]) if "{word}" in self.path else self.path


@dataclass(slots=True)
class Measures:
    """What one backend measured: page label -> median ms or "missing", browser timings, RSS."""

    backend: str
    seed_s: float = 0.0
    first: dict[str, float | str] = field(default_factory=dict)
    server: dict[str, float | str] = field(default_factory=dict)
    browser: dict[str, dict[str, float] | str] = field(default_factory=dict)
    rss_mb: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rss_rounds: list[float] = field(default_factory=list)
    tail: TailMeasure | None = None


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# Databases --------------------------------------------------------------------------------------------


async def _admin(url: str, statement: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def bench_database(backend: str, postgres_url: str | None) -> Iterator[str]:
    """An empty database URL of the backend, removed afterwards."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="assay-ui-bench-")
        try:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    assert postgres_url
    name = f"assay_ui_bench_{os.getpid()}"
    asyncio.run(_admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(postgres_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass(slots=True)
class Seeded:
    key: str
    suite_id: uuid.UUID
    base_run: uuid.UUID
    head_run: uuid.UUID
    project_token: str = ""
    events: SeededEvents | None = None


async def seed(url: str, cases: int, events: int = 0) -> Seeded:
    """Migrate, add an environment with a key, seed the suite with two runs and `events` events."""
    engine = make_engine(url)
    try:
        await upgrade(engine)
        sessionmaker = make_sessionmaker(engine)
        async with sessionmaker() as session:
            env = await env_store.create_environment(session=session, name="ui-bench")
            _, new = await env_store.create_api_key(session=session, environment_id=env.id, scopes=list(ALL_SCOPES))
            await session.commit()
        seeded = await seed_suite(
            sessionmaker, environment_id=env.id, secret_key=SECRET, cases=cases, runs=2, name="support bot"
        )
        stored = await seed_events(sessionmaker, environment_id=env.id, count=events) if events else None
        return Seeded(new.key, seeded.suite_id, seeded.run_ids[0], seeded.run_ids[1], env.project_token, stored)
    finally:
        await engine.dispose()


# The server -----------------------------------------------------------------------------------------


class Server:
    """`assay serve` in a subprocess on `url`, without background workers."""

    def __init__(self, url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
        env.update(ASSAY_DATABASE_URL=url, ASSAY_WORKERS="0", ASSAY_SECRET_KEY=SECRET, ASSAY_LOG_LEVEL="warning")
        self.log = tempfile.NamedTemporaryFile(prefix="assay-ui-bench-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assay.cli", "serve", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until_healthy(self.base, self.proc)

    def log_tail(self, lines: int = 80) -> str:
        """The last lines the server printed."""
        return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        os.unlink(self.log.name)


def sign_in(http: httpx.Client, key: str) -> None:
    """Sign in through the form, as a browser does (the session cookie stays in `http`)."""
    form = http.get("/login")
    found = TOKEN.search(form.text)
    assert form.status_code == 200 and found, form.text[:300]
    answer = http.post("/login", data={"api_key": key, "csrf_token": found.group(1), "next": "/"})
    assert answer.status_code == 303, f"sign-in refused: {answer.status_code}"


def time_page(http: httpx.Client, page: Page, repeat: int) -> tuple[float | str, float | str]:
    """Milliseconds of the first GET of the page (nothing cached yet) and the median of `repeat` more, or
    "missing" when it answers 404."""
    started = time.perf_counter()
    warm = http.get(page.url(0))
    first = (time.perf_counter() - started) * 1000
    if warm.status_code == 404:
        return "missing", "missing"
    if warm.status_code != 200:
        return f"HTTP {warm.status_code}", ""
    times = []
    for request in range(1, repeat + 1):
        started = time.perf_counter()
        answer = http.get(page.url(request))
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            return first, f"HTTP {answer.status_code}"
    return first, statistics.median(times)


NAVIGATION = """() => {
  const n = performance.getEntriesByType("navigation")[0];
  return {response_end: n.responseEnd, dom_content_loaded: n.domContentLoadedEventEnd, load: n.loadEventEnd};
}"""


async def browser_timings(base: str, key: str, paths: dict[str, str], repeat: int) -> dict[str, dict[str, float] | str]:
    """Median navigation timings (ms from navigation start) per page in Chromium, or "missing"."""
    from playwright.async_api import async_playwright

    out: dict[str, dict[str, float] | str] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{base}/login")
            await page.fill("#api_key", key)
            async with page.expect_navigation():
                await page.click("#api-key-form button[type=submit]")
            for label, path in paths.items():
                first = await page.goto(f"{base}{path}", wait_until="load")
                if first is None or first.status == 404:
                    out[label] = "missing"
                    continue
                samples: dict[str, list[float]] = {}
                for _ in range(repeat):
                    await page.goto(f"{base}{path}", wait_until="load")
                    await page.wait_for_function("performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
                    for name, value in (await page.evaluate(NAVIGATION)).items():
                        samples.setdefault(name, []).append(float(value))
                out[label] = {name: statistics.median(values) for name, values in samples.items()}
        finally:
            await browser.close()
    return out


def event_pages_for(s: Seeded) -> list[Page]:
    """The events, event and trace pages over the seeded events (none when no events were seeded)."""
    if s.events is None:
        return []
    day = s.events.first_at + (s.events.last_at - s.events.first_at) / 2
    window = urlencode(
        {"after": day.strftime("%Y-%m-%dT%H:%M"), "before": (day + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")}
    )
    return [
        Page("events: first page", "/events", 300),
        Page("events: any $ai_* event", "/events?event=any", 300),
        Page("events: model (common)", "/events?model=gpt-4o", 300),
        Page(f"events: model (1 in {RARE_EVERY:,})", f"/events?model={RARE_MODEL}", 300),
        Page("events: provider", "/events?provider=anthropic", 300),
        Page("events: distinct id", "/events?distinct_id=user-00042", 300),
        Page("events: trace id", f"/events?trace_id={s.events.sample_trace}", 300),
        Page("events: one hour, 15 days back", f"/events?{window}", 300),
        Page("events: property", "/events?property=$ai_http_status=500", 300),
        Page("event (transcript)", f"/events/{s.events.sample_uuid}", 300),
        Page("trace of 500 spans", f"/traces/{s.events.big_trace}", 500),
    ]


def pages_for(s: Seeded) -> list[Page]:
    run = f"/runs/{s.head_run}"
    return [
        Page("suites page /", "/", None),
        Page("run page", run, 300),
        Page("filter + sort (status=failed, -score)", f"{run}?status=failed&sort=-score", 200),
        Page(f"text search (q={SEARCH_WORD})", f"{run}?q={SEARCH_WORD}", 200),
        Page("text search, a new word each time", f"{run}?q={{word}}", 200),
        Page("compare two runs", f"/suites/{s.suite_id}/compare?base={s.base_run}&head={s.head_run}", 1500),
        Page("review queue", f"{run}/review", None),
        Page("suite page", f"/suites/{s.suite_id}", None),
        Page("judge reliability", f"/suites/{s.suite_id}/reliability", None),
        Page("API docs /docs", "/docs", None),
        *event_pages_for(s),
    ]


@dataclass(slots=True)
class TailMeasure:
    """The live tail under a steady flood: what was sent, what the stream counted and showed, how late it ended."""

    rate: int
    seconds: float
    sent: int = 0
    arrived: int = 0
    shown: int = 0
    catch_up_s: float | None = None
    rss_mb: tuple[float, float] = (0.0, 0.0)


def measure_tail(server: Server, http: httpx.Client, token: str, rate: int, seconds: float) -> TailMeasure:
    """Send `rate` generations a second for `seconds` through `/batch/` while a signed-in client follows
    `/events/stream`; the stream must count every event and catch up within a poll or two of the last one."""
    result = TailMeasure(rate, seconds)
    ready, done = threading.Event(), threading.Event()
    finished_at: list[float] = []

    def follow() -> None:
        with http.stream("GET", "/events/stream", timeout=seconds + 60) as answer:
            for line in answer.iter_lines():
                ready.set()
                if line.startswith("data: "):
                    data = json.loads(line.removeprefix("data: "))
                    result.arrived += int(data.get("arrived", len(data.get("events", []))))
                    result.shown += len(data.get("events", []))
                if finished_at and result.arrived >= result.sent:
                    result.catch_up_s = time.perf_counter() - finished_at[0]
                    return
                if done.is_set() and time.perf_counter() - finished_at[0] > 30:
                    return

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    ready.wait(10)
    before = rss_mb(server.proc.pid)
    batch, tick = max(1, rate // 20), 0.05
    started = time.perf_counter()
    with httpx.Client(base_url=server.base, timeout=30) as sender:
        while time.perf_counter() - started < seconds:
            events = [
                {
                    "event": "$ai_generation",
                    "distinct_id": f"tail-{result.sent + i}",
                    "properties": {"$ai_model": "tail-model", "$ai_trace_id": f"tail-{result.sent + i}"},
                }
                for i in range(batch)
            ]
            sender.post("/batch/", json={"api_key": token, "batch": events}).raise_for_status()
            result.sent += batch
            pause = started + tick * (result.sent // batch) - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
    finished_at.append(time.perf_counter())
    done.set()
    reader.join(40)
    result.rss_mb = (before, rss_mb(server.proc.pid))
    return result


def measure(
    backend: str, url: str, cases: int, repeat: int, browser: bool, rounds: int, events: int = 0
) -> tuple[Measures, list[Page]]:
    result = Measures(backend)
    started = time.perf_counter()
    seeded = asyncio.run(seed(url, cases, events))
    result.seed_s = time.perf_counter() - started
    pages = pages_for(seeded)
    server = Server(url)
    try:
        with httpx.Client(base_url=server.base, timeout=120, follow_redirects=False) as http:
            sign_in(http, seeded.key)
            before = rss_mb(server.proc.pid)
            for page in pages:
                result.first[page.label], result.server[page.label] = time_page(http, page, repeat)
            after_pass = rss_mb(server.proc.pid)
            for _ in range(rounds):  # every page again: a server whose memory stays flat ends each round alike
                for page in pages:
                    http.get(page.url(0))
                result.rss_rounds.append(rss_mb(server.proc.pid))
            if events:
                result.tail = measure_tail(server, http, seeded.project_token, rate=1000, seconds=10)
        if browser and os.access(CHROMIUM, os.X_OK):
            shot = {"run page": pages[1].path, "suites page /": "/"}
            result.browser = asyncio.run(browser_timings(server.base, seeded.key, shot, repeat))
        result.rss_mb = (before, after_pass, rss_mb(server.proc.pid, "VmHWM"))
    except Exception:
        print(f"assay serve said:\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        server.stop()
    return result, pages


# The table ------------------------------------------------------------------------------------------


def verdict(value: float | str, target: float | None) -> str:
    if isinstance(value, str):
        return ""
    if target is None:
        return ""
    return "ok" if value < target else "OVER"


def print_table(results: list[Measures], pages: list[Page], cases: int, repeat: int) -> None:
    backends = [r.backend for r in results]
    print(
        f"\nUI pages, two runs of {cases:,} results each; server time (ms) = the first request (nothing cached),"
        f" then the median of {repeat} more"
    )
    head = f"{'page':<40} {'target':>8}" + "".join(f" {b + ' first':>17} {b:>12} {'':>4}" for b in backends)
    print(head)
    print("-" * len(head))
    for page in pages:
        target = f"< {page.target_ms:g}" if page.target_ms else ""
        line = f"{page.label:<40} {target:>8}"
        for r in results:
            first, value = r.first.get(page.label, ""), r.server.get(page.label, "")
            first_shown = f"{first:.1f}" if isinstance(first, float) else str(first)
            shown = f"{value:.1f}" if isinstance(value, float) else str(value)
            line += f" {first_shown:>17} {shown:>12} {verdict(value, page.target_ms):>4}"
        print(line)
    print(f"\nChromium navigation timings, median of {repeat} loads (ms from navigation start; load target < 1000)")
    for r in results:
        for label, timings in r.browser.items():
            if isinstance(timings, str):
                print(f"  {r.backend:<10} {label:<16} {timings}")
            else:
                load = timings["load"]
                print(
                    f"  {r.backend:<10} {label:<16} responseEnd {timings['response_end']:7.1f}"
                    f"  DOMContentLoaded {timings['dom_content_loaded']:7.1f}  load {load:7.1f}"
                    f"  {'ok' if load < 1000 else 'OVER'}"
                )
    tails = [(r.backend, r.tail) for r in results if r.tail is not None]
    if tails:
        print("\nlive tail: generations sent through /batch/ while a client follows /events/stream")
        for backend, t in tails:
            caught = f"{t.catch_up_s:.2f} s" if t.catch_up_s is not None else "NEVER"
            ok = "ok" if t.catch_up_s is not None and t.arrived == t.sent else "OVER"
            print(
                f"  {backend:<10} {t.rate}/s for {t.seconds:g} s: sent {t.sent:,}, counted {t.arrived:,},"
                f" shown {t.shown:,}; caught up {caught} after the last; RSS {t.rss_mb[0]:.0f} → {t.rss_mb[1]:.0f} MB"
                f"  {ok}"
            )
    print(
        "\nserver RSS (MB): after sign-in → after measuring every page → after each further round of every page; peak"
    )
    for r in results:
        before, after, peak = r.rss_mb
        rounds = " → ".join(f"{m:.0f}" for m in r.rss_rounds)
        print(
            f"  {r.backend:<10} {before:6.0f} → {after:6.0f} → {rounds}; peak {peak:.0f}   (seeding {r.seed_s:.1f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000, help="results per run (one per test case)")
    parser.add_argument("--repeat", type=int, default=5, help="measurements per page (the median is shown)")
    parser.add_argument("--postgres-url", help="a PostgreSQL server to create the bench database on")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium timings")
    parser.add_argument("--rounds", type=int, default=3, help="further rounds of every page, for the memory figures")
    parser.add_argument("--events", type=int, default=1_000_000, help="events to seed for the events pages (0: none)")
    parser.add_argument("--quick", action="store_true", help="1,000 results per run, 3 repeats, SQLite only")
    args = parser.parse_args()
    if args.quick:
        args.cases, args.repeat, args.no_postgres, args.events = 1000, 3, True, min(args.events, 20_000)
    results: list[Measures] = []
    pages: list[Page] = []
    with contextlib.ExitStack() as stack:
        backends: list[tuple[str, str | None]] = [("sqlite", None)]
        if not args.no_postgres:
            cluster = None if args.postgres_url else stack.enter_context(throwaway_postgres())
            pg = args.postgres_url or (cluster.url if cluster else None)
            if pg:
                backends.append(("postgresql", pg))
            else:
                print("no PostgreSQL (pass --postgres-url or install postgresql): SQLite only", file=sys.stderr)
        for backend, pg_url in backends:
            print(
                f"{backend}: seeding {args.cases:,} cases, two runs, {args.events:,} events, then measuring…",
                file=sys.stderr,
                flush=True,
            )
            with bench_database(backend, pg_url) as url:
                measured, pages = measure(
                    backend, url, args.cases, args.repeat, not args.no_browser, args.rounds, args.events
                )
                results.append(measured)
    print_table(results, pages, args.cases, args.repeat)


if __name__ == "__main__":
    main()
