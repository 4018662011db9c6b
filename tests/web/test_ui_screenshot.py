"""scripts/ui_screenshot.py end to end: the demo data served, a signed-in screenshot written, a missing page skipped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.web.conftest import needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ui_screenshot.py"
PNG = b"\x89PNG\r\n\x1a\n"


def test_screenshots_of_the_demo_data(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path), "suites.png=/", "gone.png=/no-such-page/{run}"],
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr
    shot = tmp_path / "suites.png"
    assert shot.read_bytes().startswith(PNG) and shot.stat().st_size > 10_000
    assert not (tmp_path / "gone.png").exists()
    assert "404 on this build, skipped (gone.png not written)" in done.stdout
    assert "/no-such-page/{run}" not in done.stdout  # the demo's run id was filled in


def test_a_malformed_page_argument_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path), "suites=/"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "give NAME.png=/path" in done.stderr
