"""What the run benchmarks share: `assay serve` on a fresh database, and a suite of judged cases on a fake server.

Each case asks one question of an `openai_chat` instance on the fake LLM server and is judged by the server's
default judge against its expected behaviour (two LLM calls per case).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile

import httpx

from assay.testing.fake_llm import free_port
from assay.testing.serve_process import wait_until_healthy

CONCURRENCY = 50
"""Requests in flight per endpoint (the agent instance and the judge), and a suite's default concurrency."""


class AssayServer:
    """`assay serve` in a subprocess on a fresh SQLite database, with an environment and a key."""

    def __init__(self, fake_url: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="assay-bench-")
        self.port = free_port()
        self.env = {
            **os.environ,
            "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{self.dir}/bench.db",
            "ASSAY_JUDGE_MODEL": "openai/judge-model",
            "ASSAY_JUDGE_BASE_URL": fake_url,
            "ASSAY_JUDGE_API_KEY": "sk-bench",
            "ASSAY_RUN_CONCURRENCY": str(CONCURRENCY),
            "ASSAY_LOG_LEVEL": "warning",
        }
        cli = [sys.executable, "-m", "assay.cli"]
        subprocess.run([*cli, "env", "create", "bench"], env=self.env, check=True, capture_output=True)
        out = subprocess.run(
            [*cli, "keys", "create", "-e", "bench", "--json"], env=self.env, check=True, capture_output=True, text=True
        ).stdout
        self.key = json.loads(out)["key"]
        self.proc = subprocess.Popen(
            [*cli, "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        wait_until_healthy(self.base, self.proc)

    def stop(self) -> None:
        """Terminate the server and wait for it to exit."""
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def prepare_suite(
    server: AssayServer,
    fake_url: str,
    n: int,
    *,
    name: str,
    concurrency: int = CONCURRENCY,
    timeout_s: float | None = None,
) -> str:
    """The id of a new suite `name` of `n` judged cases on an `openai_chat` instance of the fake server.

    `concurrency` is the suite's (cases in progress); `timeout_s`, when given, the instance's per-attempt timeout.
    """
    headers = {"X-Api-Key": server.key}
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=60) as http:
        config: dict[str, object] = {
            "base_url": fake_url,
            "model": "agent-model",
            "api_key": "sk-bench",
            "max_concurrency": CONCURRENCY,
        }
        if timeout_s is not None:
            config["timeout_s"] = timeout_s
        r = await http.post("/v1/instances", json={"name": "agent", "kind": "openai_chat", "config": config})
        r.raise_for_status()
        suite = {
            "name": name,
            "instance_id": r.json()["id"],
            "config": {"concurrency": concurrency, "judge_cache": False},
        }
        r = await http.post("/v1/evaluations", json=suite)
        r.raise_for_status()
        suite_id: str = r.json()["id"]
        sem = asyncio.Semaphore(32)

        async def add(i: int) -> None:
            async with sem:
                body = {"input_message": f"question {i}", "expected_behavior": "answers the question"}
                (await http.post(f"/v1/evaluations/{suite_id}/test-cases", json=body)).raise_for_status()

        await asyncio.gather(*(add(i) for i in range(n)))
        return suite_id
