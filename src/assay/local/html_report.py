"""One self-contained HTML report: summary, inline SVG charts, and a table of every case."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from assay.charts import latency_chart, score_chart
from assay.domain.transcripts import transcript_lines
from assay.local.outcome import RunOutcome

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px}.meta{color:#667;margin-bottom:16px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0 20px}
.card{background:#fff;border:1px solid #e3e6ea;border-radius:8px;padding:10px 14px;min-width:110px}
.card b{display:block;font-size:20px}.card span{color:#667;font-size:12px}
.charts{display:flex;gap:16px;flex-wrap:wrap}.chart{background:#fff;border:1px solid #e3e6ea;border-radius:8px}
.chart-title{font-weight:600;font-size:13px}.tick,.count,.axis{font-size:10px;text-anchor:middle;fill:#555}
table{border-collapse:collapse;width:100%;background:#fff;margin-top:20px;font-size:13px}
th,td{border:1px solid #e3e6ea;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f6;position:sticky;top:0}
td pre{white-space:pre-wrap;word-break:break-word;margin:0;font:12px/1.4 ui-monospace,Menlo,monospace;max-width:420px}
.status{font-weight:600;border-radius:4px;padding:1px 6px}
.passed{color:#0f6b35;background:#dff5e6}.failed{color:#9b1c1c;background:#fde2e2}
.error{color:#7a4b00;background:#fff0cc}.unscored{color:#445;background:#eceff3}
.num{text-align:right;white-space:nowrap}
details.transcript summary{cursor:pointer;color:#445;font-size:12px;margin-top:4px}
"""


def _pct(value: Any) -> str:
    return f"{value * 100:.1f}%" if isinstance(value, int | float) else "–"


def _num(value: Any, suffix: str = "") -> str:
    return f"{value:g}{suffix}" if isinstance(value, int | float) else "–"


def _cards(outcome: RunOutcome) -> str:
    s = outcome.summary
    cards = [
        ("Pass rate", _pct(s.get("pass_rate"))),
        ("Mean score", _num(s.get("mean_score"))),
        ("Passed", _num(s.get("passed", 0))),
        ("Failed", _num(s.get("failed", 0))),
        ("Errors", _num(s.get("error", 0))),
        ("Unscored", _num(s.get("unscored", 0))),
        ("Latency p50", _num(s.get("latency_p50_ms"), " ms")),
        ("Latency p95", _num(s.get("latency_p95_ms"), " ms")),
        ("Duration", _num(s.get("duration_s"), " s")),
    ]
    if isinstance(s.get("scored"), int):
        cards[1] = (f"Mean score ({s['scored']} scored)", cards[1][1])
    limits = s.get("concurrency")
    if isinstance(limits, dict) and "effective" in limits:
        capped = limits.get("effective") != limits.get("requested")
        shown = f"{limits['effective']} of {limits.get('requested')}" if capped else f"{limits['effective']}"
        cards.append(("Concurrency", shown))
    return "".join(f'<div class="card"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for k, v in cards)


def _tool_calls(calls: list[dict[str, Any]]) -> str:
    return "\n".join(f"{c.get('name')}({json.dumps(c.get('arguments') or {}, sort_keys=True)})" for c in calls)


def _response(r: dict[str, Any]) -> str:
    """The reply; for a conversation case, the transcript turn by turn under it."""
    reply = f"<pre>{escape(str(r.get('response') or ''))}</pre>"
    lines = transcript_lines(r.get("transcript"))
    if not lines:
        return reply
    turns = len((r.get("transcript") or {}).get("turns") or [])
    return f'{reply}<details class="transcript"><summary>{turns} turn(s)</summary><pre>{escape(chr(10).join(lines))}</pre></details>'


def _row(r: dict[str, Any]) -> str:
    status = str(r.get("status"))
    expected = r.get("expected_behavior") or ""
    if r.get("expected_tool_calls"):
        expected = (expected + "\n" if expected else "") + "tools: " + _tool_calls(r["expected_tool_calls"])
    cells = [
        f"<td>{escape(r['name'])}</td>",
        f'<td class="num">{r["repetition"] + 1}</td>',
        f"<td><pre>{escape(str(r.get('input') or ''))}</pre></td>",
        f"<td><pre>{escape(expected)}</pre></td>",
        f"<td>{_response(r)}</td>",
        f"<td><pre>{escape(_tool_calls(r.get('tool_calls') or []))}</pre></td>",
        f'<td class="num">{escape(_num(r.get("score")))}</td>',
        f'<td><span class="status {escape(status)}">{escape(status)}</span></td>',
        f'<td class="num">{escape(_num(r.get("latency_ms")))}</td>',
        f"<td><pre>{escape(str(r.get('reason') or r.get('error') or ''))}</pre></td>",
    ]
    return f'<tr class="case-row {escape(status)}">{"".join(cells)}</tr>'


def _consistency(outcome: RunOutcome) -> str:
    rows = outcome.consistency
    if not rows:
        return ""
    cells = []
    for c in rows:
        sd = "–" if c["mean_score_sd"] is None else f"{c['mean_score_sd']:.2f}"
        flips = "–" if c["flip_rate"] is None else f"{c['flip_rate'] * 100:.1f}%"
        cells.append(f"<tr><td>{escape(c['evaluator'])}</td><td>{c['cases']}</td><td>{sd}</td><td>{flips}</td></tr>")
    return (
        '<h2>Consistency across repetitions</h2><table id="consistency"><thead><tr><th>Evaluator</th>'
        "<th>Repeated cases</th><th>Score SD</th><th>Verdict flip rate</th></tr></thead>"
        f"<tbody>{''.join(cells)}</tbody></table>"
    )


def render_html(outcome: RunOutcome) -> str:
    """The whole report as one HTML string (no scripts, no external resources)."""
    scores = [float(r["score"]) for r in outcome.results if r.get("score") is not None and r.get("status") != "error"]
    latencies = [float(r["latency_ms"]) for r in outcome.results if r.get("latency_ms") is not None]
    head = ("Case", "Rep", "Input", "Expected", "Response", "Tool calls", "Score", "Status", "Latency ms", "Reasons")
    return "".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Assay report: {escape(outcome.suite)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{escape(outcome.suite)}</h1>",
            f'<div class="meta">run {escape(outcome.run_id)} · {escape(outcome.status)} · pass mark '
            f"{outcome.pass_threshold:g} · {len(outcome.results)} results</div>",
            f'<div class="cards" id="summary">{_cards(outcome)}</div>',
            f'<div class="charts">{score_chart(scores)}{latency_chart(latencies)}</div>',
            _consistency(outcome),
            f'<table id="results"><thead><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr></thead><tbody>',
            "".join(_row(r) for r in outcome.results),
            "</tbody></table></body></html>",
        ]
    )


def write_html(outcome: RunOutcome, path: Path) -> None:
    """Write the report to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(outcome), encoding="utf-8")
