"""The value's trend as a small SVG sparkline, drawn on the server from the point-in-time trend.

Only numbers go into the drawing, so there is nothing to escape.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

WIDTH, HEIGHT, PAD = 240, 40, 3


def sparkline(points: Sequence[tuple[datetime, float]], width: int = WIDTH,
              height: int = HEIGHT) -> str:
    """An SVG of the values over time, with a zero line; a flat placeholder with no points."""
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img">')
    if not points:
        return head + "</svg>"
    values = [v for _, v in points]
    low, high = min(min(values), 0.0), max(max(values), 0.0)
    span = (high - low) or 1.0
    start, end = points[0][0].timestamp(), points[-1][0].timestamp()
    duration = (end - start) or 1.0

    def xy(moment: datetime, value: float) -> str:
        x = PAD + (width - 2 * PAD) * ((moment.timestamp() - start) / duration
                                       if len(points) > 1 else 1.0)
        y = PAD + (height - 2 * PAD) * (high - value) / span
        return f"{x:.1f},{y:.1f}"

    zero = PAD + (height - 2 * PAD) * high / span
    line = " ".join(xy(m, v) for m, v in points)
    last_x, last_y = xy(*points[-1]).split(",")
    return (head
            + f'<line x1="0" x2="{width}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#d8dcde"/>'
            + f'<polyline points="{line}" fill="none" stroke="#1f73b7" stroke-width="2"/>'
            + f'<circle cx="{last_x}" cy="{last_y}" r="3" fill="#1f73b7"/></svg>')
