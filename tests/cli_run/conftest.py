"""Running `assay run` / `assay demo` through `python -m assay.cli` with a temporary database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def run_cli(
    cwd: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m assay.cli ARGS` in `cwd`, on `cwd/assay.db`, with no judge configured and a wide terminal."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    base.update(
        {
            "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'assay.db'}",
            "COLUMNS": "200",
            "NO_COLOR": "1",
            **(env or {}),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "assay.cli", *args], capture_output=True, text=True, env=base, cwd=cwd, timeout=timeout
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with the toy agent, suite and case files."""
    for item in DATA.iterdir():
        if item.is_file():
            shutil.copy(item, tmp_path / item.name)
    return tmp_path
