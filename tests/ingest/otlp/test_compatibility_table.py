"""docs/opentelemetry.md's compatibility table stays true: every row names checks that exist, every recorded
payload is in the table, and the versions of the libraries the tests run are the ones installed."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

from tests.ingest.otlp.helpers import PAYLOADS, payload
from tests.ingest.otlp.test_sdk_export import MODES

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "opentelemetry.md"


def _rows() -> list[list[str]]:
    text = DOC.read_text()
    table = text[text.index("| instrumentation | version |") :]
    rows = []
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_every_row_is_checked_by_an_existing_test() -> None:
    rows = _rows()
    assert len(rows) >= 6
    listed_payloads: set[str] = set()
    for instrumentation, release, mapped, checked_by in rows:
        checks = [c.strip() for c in checked_by.split(",")]
        assert checks and mapped, instrumentation
        for check in checks:
            kind, _, name = check.partition(":")
            if kind == "payload":
                assert payload(name)["description"], check
                listed_payloads.add(name)
            elif kind == "client":
                assert name in MODES, check
            elif kind == "test":
                assert (ROOT / name).is_file(), check
            else:
                raise AssertionError(f"unknown check {check!r} in the row {instrumentation!r}")
        if any(c.startswith(("client:", "test:")) for c in checks):
            package = re.match(r"`([\w.-]+)`", instrumentation)
            assert package is not None, instrumentation
            assert version(package.group(1)) == release, f"{instrumentation}: the tests run {version(package.group(1))}"
    assert listed_payloads == {p.stem for p in PAYLOADS.glob("*.json")}
