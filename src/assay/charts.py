"""Inline SVG charts for the HTML report and the web UI (no library, no external assets, no inline styles)."""

from __future__ import annotations

from html import escape
from math import ceil, log10


def bins(values: list[float], edges: list[float]) -> list[int]:
    """How many values fall in each [edges[i], edges[i+1]) bucket (the last bucket includes its end)."""
    counts = [0] * (len(edges) - 1)
    for v in values:
        for i in range(len(counts)):
            last = i == len(counts) - 1
            if edges[i] <= v < edges[i + 1] or (last and v == edges[-1]):
                counts[i] += 1
                break
    return counts


def nice_edges(values: list[float], buckets: int = 10) -> list[float]:
    """Round bucket edges from 0 to just above the largest value."""
    top = max(values) if values else 1.0
    if top <= 0:
        top = 1.0
    raw = top / buckets
    magnitude = 10 ** int(log10(raw)) if raw >= 1 else 10 ** (int(log10(raw)) - 1)
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    count = max(1, ceil(top / step + 1e-9))
    if count * step <= top:
        count += 1
    return [round(i * step, 6) for i in range(count + 1)]


def histogram_svg(
    title: str, counts: list[int], labels: list[str], *, css_class: str, color: str = "#4f6df5", unit: str = ""
) -> str:
    """A bar chart: one bar per bucket with its count above and its label below."""
    width, height, left, bottom, top = 560, 220, 36, 44, 28
    plot_w, plot_h = width - left - 12, height - bottom - top
    peak = max(counts) if counts and max(counts) > 0 else 1
    slot = plot_w / max(1, len(counts))
    parts = [
        f'<svg class="chart {css_class}" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 12}" y2="{top + plot_h}" stroke="#999"/>',
    ]
    for i, (count, label) in enumerate(zip(counts, labels, strict=True)):
        h = plot_h * count / peak
        x = left + i * slot + 2
        y = top + plot_h - h
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(1.0, slot - 4):.1f}" height="{h:.1f}" '
            f'fill="{color}"><title>{escape(label)}{escape(unit)}: {count}</title></rect>'
        )
        if count:
            parts.append(f'<text x="{x + (slot - 4) / 2:.1f}" y="{y - 4:.1f}" class="count">{count}</text>')
        parts.append(f'<text x="{x + (slot - 4) / 2:.1f}" y="{top + plot_h + 14}" class="tick">{escape(label)}</text>')
    parts.append(f'<text x="{width / 2:.0f}" y="{height - 6}" class="axis">{escape(unit.strip())}</text>')
    parts.append("</svg>")
    return "".join(parts)


def score_chart(scores: list[float]) -> str:
    """Distribution of case scores over 0-100 in ten buckets."""
    edges = [float(x) for x in range(0, 101, 10)]
    labels = [f"{int(edges[i])}" for i in range(10)]
    return histogram_svg(
        "Score distribution", bins(scores, edges), labels, css_class="score-chart", color="#3b9b5f", unit=" score"
    )


def latency_chart(latencies_ms: list[float]) -> str:
    """Distribution of agent latency in round buckets."""
    edges = nice_edges(latencies_ms)
    labels = [f"{edges[i]:g}" for i in range(len(edges) - 1)]
    return histogram_svg(
        "Latency distribution",
        bins(latencies_ms, edges),
        labels,
        css_class="latency-chart",
        color="#4f6df5",
        unit=" ms",
    )


def sparkline_svg(values: list[float | None], *, title: str, width: int = 120, height: int = 28) -> str:
    """A small line of 0–1 values, oldest first; missing values break the line. Empty input draws a baseline."""
    parts = [
        f'<svg class="sparkline" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}"><title>{escape(title)}</title>',
        f'<line x1="0" y1="{height - 1}" x2="{width}" y2="{height - 1}" stroke="#ddd"/>',
    ]
    step = width / max(1, len(values) - 1)
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, value in enumerate(values):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        y = 2 + (height - 4) * (1 - min(1.0, max(0.0, value)))
        segment.append(f"{i * step:.1f},{y:.1f}")
    if segment:
        segments.append(segment)
    for points in segments:
        if len(points) == 1:
            cx, cy = points[0].split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="#4f6df5"/>')
        else:
            parts.append(f'<polyline fill="none" stroke="#4f6df5" stroke-width="1.5" points="{" ".join(points)}"/>')
    parts.append("</svg>")
    return "".join(parts)
