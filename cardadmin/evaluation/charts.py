"""Server-side SVG bar charts: no script, no CDN, print as crisply as the text around them.

Colours are SVG presentation attributes (not inline styles), which the Content-Security-Policy allows.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from cardadmin.numfmt import sv_number

PALETTE = ["#1f5f8b", "#e07b39", "#3a9b5c", "#b8403a", "#7a5ba6", "#8c6d31", "#d46fa8", "#5f6b73", "#17a2b8",
           "#bcbd22", "#444444"]


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *,
              unit: str = "", width: int = 600, height: int = 280) -> Markup:
    """Stacked bars: one bar per label, one colour per series; a legend below; a text alternative in <title>."""
    left, top, bottom = 52, 30, 44
    legend_rows = (len(series) + 1) // 2 if len(series) > 1 else 0
    full_height = height + legend_rows * 20
    plot_w, plot_h = width - left - 12, height - top - bottom
    totals = [sum(values[i] for _name, values in series) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    step = plot_w / max(len(labels), 1)
    bar_w = max(step * 0.7, 2)
    summary = "; ".join(f"{lab}: {sv_number(round(tot, 1))}{unit}" for lab, tot in zip(labels, totals, strict=True))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {full_height}" '
             f'width="100%" aria-label="{escape(title)}">',
             f"<title>{escape(title)}: {escape(summary)}</title>",
             f'<text x="{left}" y="14" font-size="15" font-weight="bold" fill="#222">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#555"/>']
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="12" text-anchor="end" fill="#444">'
                     f"{sv_number(value, 0 if peak >= 10 else 1)}</text>")
    for i, label in enumerate(labels):
        x = left + i * step + (step - bar_w) / 2
        y = top + plot_h
        for n, (_name, values) in enumerate(series):
            h = plot_h * values[i] / peak
            if h > 0:
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                             f'fill="{PALETTE[n % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" font-size="12" text-anchor="middle" '
                     f'fill="#222">{escape(label)}</text>')
        if totals[i]:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - plot_h * totals[i] / peak - 3:.1f}" '
                         f'font-size="11" text-anchor="middle" fill="#222">{totals[i]:g}</text>')
    if len(series) > 1:
        for n, (name, _values) in enumerate(series):
            lx, ly = left + (n % 2) * (plot_w / 2), height + (n // 2) * 20
            parts.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{PALETTE[n % len(PALETTE)]}"/>')
            parts.append(f'<text x="{lx + 14:.1f}" y="{ly}" font-size="12" fill="#222">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text node above is escaped)
