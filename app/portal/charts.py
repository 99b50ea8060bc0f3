"""Small inline SVG charts: no JavaScript, no external library, readable without colour."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 640
BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 180


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _svg_open(title: str, height: int) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
    )


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, unit: str = "") -> Markup:
    """A horizontal bar chart; each bar carries its value as text, so no colour is needed."""
    peak = max((value for _, value in items), default=0) or 1
    height = max(1, len(items)) * (BAR_HEIGHT + GAP) + GAP
    span = WIDTH - LABEL_WIDTH - 80
    parts = [_svg_open(title, height)]
    for index, (label, value) in enumerate(items):
        y = GAP + index * (BAR_HEIGHT + GAP)
        width = max(1.0, span * value / peak) if value else 0
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" class="chart-label">'
            f"{escape(label)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
            'class="chart-bar"/>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 16}" class="chart-value">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    if not items:
        parts.append(f'<text x="{LABEL_WIDTH}" y="20" class="chart-label">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text above is escaped


def line_chart(points: Sequence[tuple[str, float]], *, title: str) -> Markup:
    """A line chart over labelled points (e.g. days), with the first and last labels shown."""
    height, pad = 200, 30
    peak = max((value for _, value in points), default=0) or 1
    count = max(1, len(points) - 1)
    coords = [
        (pad + (WIDTH - 2 * pad) * index / count, height - pad - (height - 2 * pad) * value / peak)
        for index, (_, value) in enumerate(points)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = [
        _svg_open(title, height),
        f'<line x1="{pad}" y1="{height - pad}" x2="{WIDTH - pad}" y2="{height - pad}" '
        'class="chart-axis"/>',
        f'<text x="4" y="{pad}" class="chart-label">{escape(_number(peak))}</text>',
    ]
    if coords:
        parts.append(f'<polyline points="{path}" class="chart-line" fill="none"/>')
        parts.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="chart-dot"/>' for x, y in coords
        )
        parts.append(
            f'<text x="{pad}" y="{height - 8}" class="chart-label">{escape(points[0][0])}</text>'
        )
        parts.append(
            f'<text x="{WIDTH - pad}" y="{height - 8}" text-anchor="end" class="chart-label">'
            f"{escape(points[-1][0])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text above is escaped
