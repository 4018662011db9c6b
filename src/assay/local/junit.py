"""JUnit XML (the common Jenkins/JUnit schema): one testcase per case and repetition."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from assay.domain.transcripts import transcript_lines
from assay.local.outcome import RunOutcome


def _seconds(record: dict[str, Any]) -> str:
    latency = record.get("latency_ms")
    return f"{(latency or 0) / 1000:.3f}"


def _details(record: dict[str, Any]) -> str:
    lines = [f"input: {record.get('input')}", f"response: {record.get('response')}"]
    if record.get("tool_calls"):
        lines.append(f"tool calls: {record['tool_calls']}")
    conversation = transcript_lines(record.get("transcript"))
    if conversation:
        lines.append("transcript:")
        lines.extend(f"  {line}" for line in conversation)
    lines.append(f"score: {record.get('score')}")
    lines.append(f"reason: {record.get('reason')}")
    return "\n".join(lines)


def junit_xml(outcome: RunOutcome) -> ET.Element:
    """The `<testsuites>` document of a run."""
    results = outcome.results
    failures = sum(1 for r in results if r["status"] == "failed")
    errors = sum(1 for r in results if r["status"] == "error")
    skipped = sum(1 for r in results if r["status"] == "unscored")
    total_time = f"{sum((r.get('latency_ms') or 0) for r in results) / 1000:.3f}"
    counts = {"tests": str(len(results)), "failures": str(failures), "errors": str(errors), "time": total_time}
    root = ET.Element("testsuites", {"name": outcome.suite, **counts})
    suite = ET.SubElement(
        root, "testsuite", {"name": outcome.suite, **counts, "skipped": str(skipped), "id": "0", "hostname": "assay"}
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("run_id", outcome.run_id),
        ("status", outcome.status),
        ("pass_threshold", f"{outcome.pass_threshold:g}"),
    ):
        ET.SubElement(props, "property", {"name": name, "value": str(value)})
    for r in results:
        name = r["name"] if r["repetition"] == 0 else f"{r['name']} [repetition {r['repetition'] + 1}]"
        case = ET.SubElement(suite, "testcase", {"name": name, "classname": outcome.suite, "time": _seconds(r)})
        reason = r.get("reason") or r.get("error") or ""
        if r["status"] == "failed":
            score = r.get("score")
            message = f"score {score:g} < {outcome.pass_threshold:g}" if score is not None else "failed"
            el = ET.SubElement(
                case,
                "failure",
                {"message": f"{message}: {reason.splitlines()[0] if reason else ''}", "type": "AssertionError"},
            )
            el.text = _details(r)
        elif r["status"] == "error":
            el = ET.SubElement(
                case, "error", {"message": (r.get("error") or reason or "error")[:500], "type": "EvaluationError"}
            )
            el.text = _details(r)
        elif r["status"] == "unscored":
            ET.SubElement(case, "skipped", {"message": reason or "nothing to score against"})
        out = ET.SubElement(case, "system-out")
        out.text = _details(r)
    return root


def write_junit(outcome: RunOutcome, path: Path) -> None:
    """Write the JUnit XML report to `path`."""
    tree = ET.ElementTree(junit_xml(outcome))
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
