"""A PostgreSQL cluster of its own on a private port, for benchmarks and for tests that restart the server.

It uses Debian's `postgresql` package (`/usr/lib/postgresql/<version>/bin`), run as the `postgres` user when
the caller is root, with durability switched off (the data is thrown away). `scripts/test` starts its cluster
the same way.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from assay.testing.fake_llm import free_port


def postgres_bin() -> str | None:
    """The newest installed PostgreSQL's bin directory, or None when the package is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
    return found[-1] if found and Path(found[-1], "initdb").exists() else None


class ThrowawayPostgres:
    """An initialised, running cluster; `url` is its `postgres` database for SQLAlchemy's asyncpg driver."""

    def __init__(self, pgbin: str) -> None:
        self._pgbin = pgbin
        self.port = free_port()
        self.data = tempfile.mkdtemp(prefix="assay-pg-")
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_postgres:
            shutil.chown(self.data, "postgres", "postgres")
        os.chmod(self.data, 0o700)
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-k /tmp -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", self.data, "-l", f"{self.data}/server.log", "-w", "-t", "60", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session (what a restart for maintenance does), `immediate` crashes it."""
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def remove(self) -> None:
        """Stop the server if it runs and delete its files."""
        subprocess.run(
            [*self._as_postgres, f"{self._pgbin}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(self.data, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as_postgres, f"{self._pgbin}/{program}", *args]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres | None]:
    """A cluster for the block's lifetime, removed afterwards; None when PostgreSQL is not installed."""
    pgbin = postgres_bin()
    if pgbin is None:
        yield None
        return
    cluster = ThrowawayPostgres(pgbin)
    try:
        yield cluster
    finally:
        cluster.remove()
