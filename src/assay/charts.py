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
    width, height, left, bottom, top = 560, 226, 36, 44, 36
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
    return score_buckets_chart(bins(scores, [float(x) for x in range(0, 101, 10)]))


def score_buckets_chart(counts: list[int]) -> str:
    """The score distribution from ten bucket counts ([0, 10), [10, 20) … [90, 100])."""
    labels = [str(10 * i) for i in range(10)]
    return histogram_svg("Score distribution", counts, labels, css_class="score-chart", color="#3b9b5f", unit=" score")


def latency_chart(latencies_ms: list[float]) -> str:
    """Distribution of agent latency in round buckets."""
    edges = nice_edges(latencies_ms)
    return latency_buckets_chart(edges, bins(latencies_ms, edges))


def latency_buckets_chart(edges: list[float], counts: list[int]) -> str:
    """The latency distribution from bucket edges (as `nice_edges` makes them) and their counts."""
    labels = [f"{edges[i]:g}" for i in range(len(edges) - 1)]
    return histogram_svg("Latency distribution", counts, labels, css_class="latency-chart", color="#4f6df5", unit=" ms")


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


def pass_rate_by_tag_chart(rates: list[tuple[str, int, int]], *, limit: int = 12) -> str:
    """Horizontal bars of pass rate per tag, from (tag, passed, graded) triples, most graded first."""
    shown = sorted((r for r in rates if r[2] > 0), key=lambda r: (-r[2], r[0]))[:limit]
    title = "Pass rate by tag"
    width, row_h, left, top = 560, 22, 150, 28
    height = top + row_h * max(1, len(shown)) + 12
    plot_w = width - left - 70
    parts = [
        f'<svg class="chart tag-chart" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    if not shown:
        parts.append(f'<text x="0" y="{top + 14}" class="tick-left">no tagged results</text>')
    for i, (tag, passed, graded) in enumerate(shown):
        rate = passed / graded if graded else 0.0
        y = top + i * row_h
        label = tag if len(tag) <= 22 else tag[:21] + "…"
        parts.append(f'<text x="{left - 8}" y="{y + 14}" class="tick-right">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{plot_w}" height="{row_h - 8}" fill="#eef0f4"/>')
        parts.append(
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{plot_w * rate:.1f}" height="{row_h - 8}" fill="#3b9b5f">'
            f"<title>{escape(tag)}: {passed} of {graded} passed</title></rect>"
        )
        parts.append(
            f'<text x="{left + plot_w + 6}" y="{y + 14}" class="tick-left">{rate * 100:.0f} % of {graded}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def ci_chart_svg(
    mean: float | None,
    low: float | None,
    high: float | None,
    *,
    band: float | None = None,
    title: str = "Mean score change with its 95 % CI",
    width: int = 420,
    height: int = 64,
) -> str:
    """A horizontal interval against zero: the CI as a bar, the mean as a dot, the noise band (±band around zero)
    shaded. The scale is symmetric around zero so the side of zero reads at a glance."""
    values = [abs(v) for v in (mean, low, high, band) if v is not None]
    reach = max(values + [1.0]) * 1.15
    left, right, axis_y = 12, width - 12, 34

    def x(value: float) -> float:
        return left + (value + reach) / (2 * reach) * (right - left)

    parts = [
        f'<svg class="chart ci-chart" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)}</title>",
    ]
    if band is not None:
        parts.append(
            f'<rect class="noise-band" x="{x(-band):.1f}" y="{axis_y - 14}" width="{x(band) - x(-band):.1f}" '
            f'height="28" fill="#e9ebf2"><title>Repetition noise band ±{band:.2f}</title></rect>'
        )
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{right}" y2="{axis_y}" stroke="#bbb"/>')
    parts.append(f'<line x1="{x(0):.1f}" y1="{axis_y - 18}" x2="{x(0):.1f}" y2="{axis_y + 18}" stroke="#667085"/>')
    parts.append(f'<text x="{x(0):.1f}" y="{height - 4}" class="tick">0</text>')
    for tick in (-reach / 1.15, reach / 1.15):
        parts.append(f'<text x="{x(tick):.1f}" y="{height - 4}" class="tick">{tick:+.3g}</text>')
    if low is not None and high is not None:
        color = "#c9352b" if high < 0 else "#1f8a4c" if low > 0 else "#3446c9"
        parts.append(
            f'<rect class="ci" x="{x(low):.1f}" y="{axis_y - 5}" width="{max(1.5, x(high) - x(low)):.1f}" height="10" '
            f'rx="3" fill="{color}" fill-opacity="0.35" stroke="{color}"><title>95 % CI [{low:.2f}, {high:.2f}]</title></rect>'
        )
    if mean is not None:
        parts.append(
            f'<circle class="mean" cx="{x(mean):.1f}" cy="{axis_y}" r="5" fill="#1d2433">'
            f"<title>Mean change {mean:+.2f}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def trace_timeline_svg(rows: list[tuple[str, int, str, float, float]], *, total_s: float) -> str:
    """A timeline of a trace: one bar per (label, depth, kind, start_s, duration_s) row, from 0 to `total_s`.

    `kind` picks the bar's class (`bar-generation`, `bar-span`, `bar-trace`, `bar-other`, `bar-error`).
    """
    total = total_s if total_s > 0 else 1.0
    label_w, plot_w, row_h, top = 260, 640, 18, 22
    height = top + row_h * max(1, len(rows)) + 6
    width = label_w + plot_w + 36  # room for the last tick's label
    parts = [
        f'<svg class="chart timeline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="Trace timeline">'
    ]
    for i in range(5):
        x = label_w + plot_w * i / 4
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height}"/>')
        parts.append(f'<text class="tick" x="{x:.1f}" y="{top - 8}" text-anchor="middle">{total * i / 4:.2f} s</text>')
    for i, (label, depth, kind, start, duration) in enumerate(rows):
        y = top + i * row_h
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(f'<text class="label" x="{4 + 10 * min(depth, 12)}" y="{y + 12}">{escape(short)}</text>')
        x = label_w + plot_w * max(0.0, start) / total
        w = max(2.0, plot_w * max(0.0, duration) / total)
        parts.append(
            f'<rect class="bar-{escape(kind)}" x="{x:.1f}" y="{y + 3}" width="{min(w, label_w + plot_w - x):.1f}" '
            f'height="{row_h - 6}" rx="2"><title>{escape(label)}: {duration:.3f} s</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_bars_svg(
    bars: list[tuple[str, list[int]]],
    series: list[tuple[str, str]],
    *,
    title: str,
    width: int = 760,
    height: int = 200,
    label_every: int = 1,
) -> str:
    """Stacked columns, one per (label, counts) bar, oldest first; `series` names and colours each count.

    Every `label_every`-th label is written under its column; each column has a tooltip with all its counts.
    """
    left, bottom, top = 34, 22, 8
    plot_w, plot_h = width - left - 4, height - bottom - top
    peak = max((sum(counts) for _, counts in bars), default=0)
    scale = plot_h / peak if peak else 0.0
    step = plot_w / max(1, len(bars))
    bar_w = max(1.0, step * 0.8)
    parts = [
        f'<svg class="stacked-bars" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" stroke="#ccc"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" font-size="10" fill="#667085">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="10" fill="#667085">0</text>',
    ]
    for i, (label, counts) in enumerate(bars):
        x = left + i * step + (step - bar_w) / 2
        y: float = top + plot_h
        tip = escape(f"{label}: " + ", ".join(f"{name} {n}" for (name, _), n in zip(series, counts, strict=False)))
        parts.append(f"<g><title>{tip}</title>")
        for (_, color), n in zip(series, counts, strict=False):
            if n <= 0:
                continue
            h = n * scale
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{color}"/>')
        parts.append("</g>")
        if i % max(1, label_every) == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="10" '
                f'fill="#667085">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
