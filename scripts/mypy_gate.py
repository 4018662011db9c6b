"""Run mypy on src/assay and fail on any error that mypy-baseline.txt does not list.

The baseline holds today's errors outside the strictly typed packages, one line each as
``path: [code] message`` (no line numbers, so unrelated edits do not disturb it). An error
that the baseline does not list, or that occurs more often than listed, fails the gate.
Listed errors that are gone are printed, so the baseline can shrink: rewrite it with
``python scripts/mypy_gate.py --update`` after fixing them (never to let new errors in).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
HEADER = "# mypy errors accepted for now (scripts/mypy_gate.py): remove lines as they are fixed, never add any.\n"
# path:line[:column]: error: message  [code]
ERROR_LINE = re.compile(r"^(?P<path>[^:\s][^:]*):\d+(?::\d+)?: error: (?P<message>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$")
LINE_NUMBER = re.compile(r"\bline \d+\b")


def error_key(line: str) -> str | None:
    """The baseline form of one mypy output line, or None when the line is not an error."""
    match = ERROR_LINE.match(line)
    if match is None:
        return None
    message = LINE_NUMBER.sub("line N", match["message"])
    return f"{match['path']}: [{match['code'] or 'misc'}] {message}"


def run_mypy() -> tuple[int, list[str]]:
    """Run mypy with the configuration in pyproject.toml; return its exit status and output lines."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-pretty", "--no-error-summary", "--show-error-codes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, (done.stdout + done.stderr).splitlines()


def read_baseline() -> Counter[str]:
    """The accepted errors and how often each may occur."""
    if not BASELINE.exists():
        return Counter()
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return Counter(line for line in lines if line.strip() and not line.startswith("#"))


def main() -> int:
    """Compare mypy's errors with the baseline; exit 1 on new errors, 0 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="rewrite mypy-baseline.txt with the current errors")
    args = parser.parse_args()

    status, output = run_mypy()
    found = Counter(key for key in map(error_key, output) if key is not None)
    if status not in (0, 1) or (status == 1 and not found):
        print("\n".join(output), file=sys.stderr)
        print(f"mypy failed to run (exit status {status})", file=sys.stderr)
        return 1

    if args.update:
        BASELINE.write_text(HEADER + "".join(f"{key}\n" for key in sorted(found.elements())), encoding="utf-8")
        print(f"mypy-baseline.txt: {sum(found.values())} errors")
        return 0

    baseline = read_baseline()
    new = found - baseline
    gone = baseline - found
    if gone:
        print(f"{sum(gone.values())} baseline errors are fixed; remove these lines from mypy-baseline.txt:")
        print("".join(f"  {key}\n" for key in sorted(gone.elements())), end="")
    if new:
        new_keys = set(new)
        print(f"mypy: {sum(new.values())} new errors (not in mypy-baseline.txt):", file=sys.stderr)
        for line in output:
            if error_key(line) in new_keys:
                print(f"  {line}", file=sys.stderr)
        return 1
    print(f"mypy: no new errors ({sum(found.values())} accepted in mypy-baseline.txt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
