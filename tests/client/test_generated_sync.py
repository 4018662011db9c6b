"""The blocking SDK modules are generated from the asyncio ones (`scripts/gen_sync_client.py`) and up to date."""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_sync_client.py"
CLIENT_DIR = ROOT / "src" / "assay" / "client"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_sync_client", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = load_script()


def test_committed_sync_modules_match_their_async_sources() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, f"{done.stderr}\n{done.stdout}"


@pytest.mark.parametrize(("source", "target"), sorted(gen.SOURCES.items()))
def test_generated_module_says_so_and_has_no_asyncio_left(source: str, target: str) -> None:
    text = (CLIENT_DIR / target).read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first.startswith(f"# Generated from {source} ") and "do not edit" in first
    names = {t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.NAME}
    assert not names & {"async", "await", "asyncio", "aclose", "aiterate", "__aenter__", "__aexit__"}
    assert not any(n.startswith(("Async", "_async_")) for n in names), sorted(names)


def test_replacements() -> None:
    source = (
        "import asyncio\n"
        "from assay.client import _async_agents\n"
        "class AsyncThing:\n"
        '    """An asyncio client; awaitable."""\n'
        "    async def __aenter__(self) -> AsyncIterator[int]:\n"
        "        async with self._lock:\n"
        "            async for x in aiterate(f, p):\n"
        "                await asyncio.sleep(1)\n"
        "        await self._http.aclose()\n"
        "        await areport_progress(cb, task)\n"
    )
    assert gen.unasync(source) == (
        "import time\n"
        "from assay.client import _agents\n"
        "class Thing:\n"
        '    """A blocking client; awaitable."""\n'
        "    def __enter__(self) -> Iterator[int]:\n"
        "        with self._lock:\n"
        "            for x in iterate(f, p):\n"
        "                time.sleep(1)\n"
        "        self._http.close()\n"
        "        report_progress(cb, task)\n"
    )


def test_check_fails_on_a_hand_edited_sync_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client_dir = tmp_path / "src" / "assay" / "client"
    client_dir.mkdir(parents=True)
    for source, target in gen.SOURCES.items():
        shutil.copy(CLIENT_DIR / source, client_dir / source)
        shutil.copy(CLIENT_DIR / target, client_dir / target)
    monkeypatch.setattr(gen, "CLIENT_DIR", client_dir)
    assert gen.main(["--check"]) == 0

    agents = client_dir / "_agents.py"
    agents.write_text(agents.read_text().replace('"/v1/recipes"', '"/v1/recipe"', 1))
    assert gen.main(["--check"]) == 1
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0
    assert agents.read_text() == (CLIENT_DIR / "_agents.py").read_text()
