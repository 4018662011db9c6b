"""A cluster on PostgreSQL for the job-queue tests: its own database, a serving process and worker processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from assay.api.app import create_app
from assay.engine.queue.schema import apply_queue_schema_at
from assay.settings import Settings
from assay.storage.db import make_engine
from assay.storage.migrate import upgrade
from assay.testing.fake_llm import FakeLLMServer
from tests.conftest import POSTGRES_URL, uvicorn_in_thread

SECRET = "queue-cluster-secret"
SRC = str(Path(__file__).resolve().parents[2] / "src")

pytestmark = pytest.mark.postgres


async def _fresh_database() -> str:
    assert POSTGRES_URL
    name = f"assay_queue_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}".replace("-", "_")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    admin = make_engine(POSTGRES_URL)
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


@dataclass
class Cluster:
    """A database, a server that only queues (`ASSAY_WORKERS=0`) and `assay worker` processes."""

    database_url: str
    server_url: str
    fake: FakeLLMServer
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def settings(self) -> Settings:
        return Settings(  # type: ignore[call-arg]
            database_url=self.database_url,
            workers=0,
            dispatch="queue",
            secret_key=SECRET,
            chunk_size=20,
            _env_file=None,
        )

    async def wait_for_workers(self, count: int, timeout: float = 240) -> None:
        """Until `count` worker processes report themselves (starting Python is slow on a loaded machine)."""
        engine = make_engine(self.database_url)
        deadline = time.monotonic() + timeout
        try:
            while True:
                async with engine.connect() as conn:
                    alive = await conn.scalar(
                        text("SELECT count(*) FROM worker_processes WHERE heartbeat_at > now() - interval '3 seconds'")
                    )
                if alive >= count:
                    return
                dead = [p for p in self.workers if p.poll() is not None]
                assert not dead, f"a worker exited: {self.log_tails()}"
                assert time.monotonic() < deadline, f"only {alive} of {count} workers started"
                await asyncio.sleep(0.2)
        finally:
            await engine.dispose()

    def start_worker(self, concurrency: int = 10) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "PYTHONPATH": SRC,
            "ASSAY_DATABASE_URL": self.database_url,
            "ASSAY_SECRET_KEY": SECRET,
            "ASSAY_DISPATCH": "queue",
            "ASSAY_CHUNK_SIZE": "20",
            "ASSAY_QUEUE_HEARTBEAT_SECONDS": "0.5",
            "ASSAY_QUEUE_STALLED_SECONDS": "5",
            "ASSAY_ONLINE_RETRY_SECONDS": "0.2",
        }
        cmd = [sys.executable, "-m", "assay.cli", "worker", "--concurrency", str(concurrency)]
        log = tempfile.NamedTemporaryFile(prefix="assay-worker-", suffix=".log", delete=False)  # noqa: SIM115
        self.logs.append(Path(log.name))
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        self.workers.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.workers:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.workers.clear()

    def log_tails(self) -> str:
        """The end of every worker's log (printed when a test fails)."""
        return "\n".join(f"--- {p}\n{p.read_text(errors='replace')[-3000:]}" for p in self.logs if p.exists())


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need ASSAY_TEST_POSTGRES_URL (scripts/test starts a throwaway server)")
    url = asyncio.run(_fresh_database())
    with FakeLLMServer() as fake:
        probe = Cluster(url, "", fake)
        with uvicorn_in_thread(create_app(probe.settings())) as server_url:
            found = Cluster(url, server_url, fake)
            try:
                for _ in range(3):
                    found.start_worker()
                asyncio.run(found.wait_for_workers(3))
                yield found
            finally:
                found.stop_all()
                print(found.log_tails())
                for log in found.logs:
                    log.unlink(missing_ok=True)


@pytest.fixture
async def helper_app(cluster: Cluster):  # noqa: ANN201
    """An app on the cluster's database for setting up data from the test's loop (it serves nothing)."""
    app = create_app(cluster.settings())
    yield app
    await app.state.engine.dispose()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
