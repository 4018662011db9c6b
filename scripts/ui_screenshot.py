"""Screenshots of the web UI on the demo data, for the README (docs/images/*.png).

Runs `assay demo` into a temporary SQLite database (as `bash scripts/demo` does), serves it with
`assay serve`, signs in with a demo key in Debian's Chromium and saves one screenshot per page.

    .venv/bin/python scripts/ui_screenshot.py                        # docs/images/suites.png and run-page.png
    .venv/bin/python scripts/ui_screenshot.py run-page.png=/runs/{run} compare.png=/suites/{suite}/compare

Each page is NAME=PATH; PATH may name {suite} (the demo suite), {run} (its latest run) and {base_run} (the
run before it). A page the server does not have (404) is reported and skipped; any other failure (an error
answer, a console error in the page) fails the script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from assay.testing.fake_llm import free_port
from assay.testing.serve_process import wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
DEFAULT_PAGES = ["suites.png=/", "run-page.png=/runs/{run}"]
DEMO_SUITE = "order support (demo)"


def cli(workdir: Path, env: dict[str, str], *args: str) -> str:
    """`assay ARGS` in `workdir`; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "assay.cli", *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=180
    )
    if done.returncode != 0:
        raise SystemExit(f"assay {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def demo_server_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update(
        ASSAY_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'assay.db'}",
        ASSAY_SECRET_KEY="ui-screenshot-secret-0123456789abcdef",
        ASSAY_WORKERS="0",
        ASSAY_LOG_LEVEL="warning",
        COLUMNS="200",
    )
    return env


def demo_ids(base: str, key: str) -> dict[str, str]:
    """{suite}, {run} and {base_run} of the demo suite, read through the API."""
    with httpx.Client(base_url=base, headers={"X-Api-Key": key}, timeout=30) as http:
        suites = http.get("/v1/evaluations").raise_for_status().json()
        suite = next(s for s in suites if s["name"] == DEMO_SUITE)
        runs = http.get(f"/v1/evaluations/{suite['id']}/runs").raise_for_status().json()
    ids = [r.get("task_id") or r["id"] for r in runs]  # newest first
    return {"suite": suite["id"], "run": ids[0], "base_run": ids[1] if len(ids) > 1 else ids[0]}


async def shoot(base: str, key: str, pages: list[tuple[str, str]], out: Path, width: int, height: int) -> int:
    """Sign in and save each page; returns how many pages failed (404s are skipped, not failures)."""
    from playwright.async_api import async_playwright

    failures = 0
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": width, "height": height})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            await page.goto(f"{base}/login")
            await page.fill("#api_key", key)
            async with page.expect_navigation():
                await page.click("#api-key-form button[type=submit]")
            for name, path in pages:
                problems.clear()
                answer: Any = await page.goto(f"{base}{path}", wait_until="load")
                status = answer.status if answer is not None else 0
                if status == 404:
                    print(f"{path}: 404 on this build, skipped ({name} not written)")
                    continue
                if status != 200 or problems:
                    print(f"{path}: HTTP {status} {problems}", file=sys.stderr)
                    failures += 1
                    continue
                target = out / name
                await page.screenshot(path=str(target), full_page=True)
                print(f"{path} -> {target}")
        finally:
            await browser.close()
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", default=DEFAULT_PAGES, help="NAME=PATH, e.g. run-page.png=/runs/{run}")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder of the images")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()
    wanted = []
    for item in args.pages:
        name, sep, path = item.partition("=")
        if not sep or not name.endswith(".png") or not path.startswith("/"):
            parser.error(f"{item!r}: give NAME.png=/path")
        wanted.append((name, path))
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="assay-ui-screenshot-") as folder:
        workdir = Path(folder)
        env = demo_server_env(workdir)
        cli(workdir, env, "demo", "--environment", "demo", "--html", str(workdir / "assay-report.html"))
        key = json.loads(cli(workdir, env, "keys", "create", "--environment", "demo", "--name", "demo", "--json"))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "assay.cli", "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_healthy(base, server)
            ids = demo_ids(base, key["key"])
            pages = [(name, path.format(**ids)) for name, path in wanted]
            failures = asyncio.run(shoot(base, key["key"], pages, args.out, args.width, args.height))
        finally:
            server.terminate()
            server.wait(timeout=30)
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
