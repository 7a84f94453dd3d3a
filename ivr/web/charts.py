"""Small server-side SVG charts for the console's reports: rates over days, and counts
by category. No JavaScript and no chart library: each chart is a few dozen SVG elements
a browser, a screen reader and a test can all read.

Rules of this file: every chart has a ``<title>`` and a ``<desc>`` saying in words what
it shows, each bar or point its value as text (``<title>`` for a tooltip and a visible
label), and the page puts the same numbers in a table beside it. Every text is escaped
here (``markupsafe.escape``); the result is ``Markup``, safe to put in a template.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Series", "rates_over_days", "bars"]

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 48


@dataclass(frozen=True)
class Series:
    """One line of a chart: its name, colour and a value (0 to 1, or None) per day."""

    name: str
    colour: str
    values: Sequence[float | None]


def _svg(chart_id: str, title: str, desc: str, width: int, height: int, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
            f'viewBox="0 0 {width} {height}" width="100%" aria-labelledby="{escape(chart_id)}-title '
            f'{escape(chart_id)}-desc"><title id="{escape(chart_id)}-title">{escape(title)}</title>'
            f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def rates_over_days(chart_id: str, title: str, days: Sequence[str], series: Sequence[Series]) -> Markup:
    """Rates (0 to 1) per day as lines with a dot and a label per day; the y axis is 0-100%."""
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(len(days) - 1, 1)

    def x(i: int) -> float:
        return LEFT + (i * step if len(days) > 1 else inner_w / 2)

    def y(v: float) -> float:
        return TOP + inner_h * (1 - max(0.0, min(v, 1.0)))

    body = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                    f'stroke="#e3e6eb"/><text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
                    f'text-anchor="end" font-size="11" fill="#667085">{_pct(tick)}</text>')
    every = max(1, len(days) // 10)
    for i, day in enumerate(days):
        if i % every == 0 or i == len(days) - 1:
            body.append(f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                        f'font-size="11" fill="#667085">{escape(day[5:])}</text>')
    words = []
    for k, s in enumerate(series):
        points = [(x(i), y(v), v, days[i]) for i, v in enumerate(s.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{'M' if j == 0 else 'L'}{px:.1f},{py:.1f}" for j, (px, py, _, _) in enumerate(points))
            body.append(f'<path d="{path}" fill="none" stroke="{escape(s.colour)}" stroke-width="2.5"/>')
        for px, py, v, day in points:
            body.append(f'<g class="point" data-series="{escape(s.name)}" data-day="{escape(day)}" '
                        f'data-value="{v:.4f}"><circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{escape(s.colour)}">'
                        f'<title>{escape(s.name)} on {escape(day)}: {_pct(v)}</title></circle>'
                        f'<text x="{px:.1f}" y="{py - 8:.1f}" text-anchor="middle" font-size="10" '
                        f'fill="{escape(s.colour)}">{_pct(v)}</text></g>')
        legend_x = LEFT + k * 200
        body.append(f'<rect x="{legend_x}" y="{HEIGHT - 18}" width="12" height="12" fill="{escape(s.colour)}"/>'
                    f'<text x="{legend_x + 18}" y="{HEIGHT - 8}" font-size="12" fill="#1d2330">{escape(s.name)}</text>')
        shown = [f"{d}: {_pct(v)}" for _, _, v, d in points]
        words.append(f"{s.name}: " + ("; ".join(shown) if shown else "no calls"))
    desc = f"{title}, per day. " + ". ".join(words) + "."
    if not days:
        body.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#667085">'
                    'No calls in this period</text>')
    return _svg(chart_id, title, desc, WIDTH, HEIGHT, body)


def bars(chart_id: str, title: str, counts: Sequence[tuple[str, int]], colour: str = "#2f5bea",
         unit: str = "calls") -> Markup:
    """Counts as horizontal bars, one per category, each with its number written beside it."""
    row = 28
    height = TOP + row * max(len(counts), 1) + 8
    label_w, inner_w = 210, WIDTH - 210 - RIGHT - 60
    top = max((n for _, n in counts), default=0)
    body = []
    for i, (name, n) in enumerate(counts):
        y = TOP + i * row
        w = inner_w * n / top if top else 0
        body.append(f'<g class="bar" data-name="{escape(name)}" data-value="{n}">'
                    f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12" fill="#1d2330">'
                    f'{escape(name)}</text><rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="18" rx="3" '
                    f'fill="{escape(colour)}"><title>{escape(name)}: {n} {escape(unit)}</title></rect>'
                    f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="12" fill="#1d2330">{n}</text></g>')
    desc = f"{title}: " + ("; ".join(f"{name} {n} {unit}" for name, n in counts) or "nothing to show") + "."
    return _svg(chart_id, title, desc, WIDTH, height, body)
