"""Charts drawn as SVG on the server: plain shapes with a title, a legend and labelled axes,
in Zendesk Garden's colours and the page's own font."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

TIER_COLOURS = (("high", "High", "#038153"), ("medium", "Medium", "#5293c7"),
                ("low", "Low", "#cc3340"))
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def shares_svg(shares: Sequence[tuple[datetime, dict[str, int]]], width: int = 640,
               height: int = 220) -> str:
    """Each tier's share of the customers (in %) at each moment, one line per tier."""
    left, right, top, bottom = 40, 110, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    summary = ", ".join(
        f"{label} {_share(shares[-1][1], key):.0f}%" for key, label, _ in TIER_COLOURS
    ) if shares else "no data yet"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="cv-shares-title">',
             f'<title id="cv-shares-title">Share of customers by tier over 90 days; now: '
             f'{escape(summary)}</title>',
             f'<g font-family="{FONT}" font-size="11" fill="#68737d">']
    for percent in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - percent / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     f'stroke="#e9ebed"/><text x="{left - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{percent}%</text>')
    if len(shares) >= 1:
        first, last = shares[0][0], shares[-1][0]
        span = max((last - first).total_seconds(), 1.0)

        def x(at: datetime) -> float:
            return left + plot_w * (at - first).total_seconds() / span

        for at in (first, last):
            parts.append(f'<text x="{x(at):.1f}" y="{height - 8}" text-anchor="middle">'
                         f'{at:%d %b}</text>')
        for index, (key, label, colour) in enumerate(TIER_COLOURS):
            points = " ".join(f"{x(at):.1f},{top + plot_h * (1 - _share(c, key) / 100):.1f}"
                              for at, c in shares)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"/>')
            ly = top + 14 + index * 18
            parts.append(f'<rect x="{left + plot_w + 12}" y="{ly - 9}" width="12" height="4" '
                         f'fill="{colour}"/><text x="{left + plot_w + 30}" y="{ly - 4}" '
                         f'fill="#2f3941">{label} {_share(shares[-1][1], key):.0f}%</text>')
    parts.append("</g></svg>")
    return "".join(parts)


def _share(counts: dict[str, int], key: str) -> float:
    total = sum(counts.values())
    return 100.0 * counts.get(key, 0) / total if total else 0.0
