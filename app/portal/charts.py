"""Small inline SVG charts: no JavaScript, no external library, readable without colour."""

from __future__ import annotations

import math
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


LABEL_UNITS = 24
"""What fits on one line left of the bars, in Latin letters (a Chinese character counts two)."""
LINE_HEIGHT = 14
WRAPPED_GAP = 14


def _units(text: str) -> int:
    return sum(2 if ord(character) > 0x2E80 else 1 for character in text)


def _cut(text: str, units: int) -> tuple[str, str]:
    """The longest start of ``text`` within ``units``, and the rest."""
    used = 0
    for index, character in enumerate(text):
        used += _units(character)
        if used > units:
            return text[:index], text[index:]
    return text, ""


def label_lines(label: str, units: int = LABEL_UNITS) -> list[str]:
    """A bar's label on one line, or on two (broken at a space when there is one); what does not
    fit on two ends in "…" (the table under each chart has the full names)."""
    if _units(label) <= units:
        return [label]
    first, rest = _cut(label, units)
    if rest and not rest.startswith(" ") and " " in first:
        # Not within a word: break at the last space that fits.
        first = first.rsplit(" ", 1)[0]
        rest = label[len(first) :]
    elif " " not in label:
        # Chinese (no spaces): two lines of about the same length, not one and an orphan.
        first, rest = _cut(label, min(units, math.ceil(_units(label) / 2)))
    second, overflow = _cut(rest.strip(), units)
    if overflow:
        second = _cut(second, units - 1)[0].rstrip() + "…"
    return [first.rstrip(), second]


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, unit: str = "") -> Markup:
    """A horizontal bar chart; each bar carries its value as text, so no colour is needed.
    Long labels wrap onto a second line (every row then gets room for two)."""
    peak = max((value for _, value in items), default=0) or 1
    lines = [label_lines(label) for label, _ in items]
    wrapped = any(len(parts) > 1 for parts in lines)
    gap = WRAPPED_GAP if wrapped else GAP
    height = max(1, len(items)) * (BAR_HEIGHT + gap) + gap
    span = WIDTH - LABEL_WIDTH - 80
    parts = [_svg_open(title, height)]
    for index, ((label, value), label_parts) in enumerate(zip(items, lines, strict=True)):
        y = gap + index * (BAR_HEIGHT + gap)
        width = max(1.0, span * value / peak) if value else 0
        if len(label_parts) == 1:
            text = escape(label)
            first_line = y + 16
        else:
            text = Markup("").join(
                Markup('<tspan x="{x}" dy="{dy}">{part}</tspan>').format(
                    x=LABEL_WIDTH - 8, dy=0 if number == 0 else LINE_HEIGHT, part=part
                )
                for number, part in enumerate(label_parts)
            )
            if label_parts[-1].endswith("…"):
                text = Markup("<title>{label}</title>").format(label=label) + text
            first_line = y + 4 + (BAR_HEIGHT - LINE_HEIGHT) // 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{first_line}" text-anchor="end" class="chart-label">'
            f"{text}</text>"
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
