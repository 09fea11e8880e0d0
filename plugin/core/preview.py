"""What a settings change would do, before it is saved: the spread of values under the current
and the draft settings, how many customers would change tier, and a few named examples.

Pure: it scores the histories it is given, at the moment it is given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from plugin.core.domain import CustomerHistory
from plugin.core.model import Cutoffs, absolute_cutoffs, percentile_cutoffs, score
from plugin.core.settings import Settings
from plugin.core.signals import DEFAULT_NORMS, Norms

TIERS = ("high", "medium", "low")
BIN_WIDTH = 10
EXAMPLES = 5
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


@dataclass(frozen=True)
class Mover:
    user_id: int
    name: str
    before: float
    after: float
    tier_before: str
    tier_after: str


@dataclass(frozen=True)
class Preview:
    customers: int
    histogram_current: dict[int, int]
    """Customers per bin of BIN_WIDTH, keyed by the bin's lower edge."""
    histogram_draft: dict[int, int]
    moves: dict[tuple[str, str], int]
    """(tier now, tier with the draft) → customers."""
    examples: tuple[Mover, ...]

    @property
    def changed_tier(self) -> int:
        return sum(n for (a, b), n in self.moves.items() if a != b)


def preview(histories: Sequence[CustomerHistory], current: Settings, draft: Settings,
            now: datetime, norms: Norms = DEFAULT_NORMS) -> Preview:
    before = _values(histories, current, now, norms)
    after = _values(histories, draft, now, norms)
    moves: Counter[tuple[str, str]] = Counter()
    movers = []
    for history, (v0, t0), (v1, t1) in zip(histories, before, after, strict=True):
        moves[(t0, t1)] += 1
        movers.append(Mover(history.profile.id, history.profile.name, v0, v1, t0, t1))
    movers.sort(key=lambda m: (m.tier_before == m.tier_after, -abs(m.after - m.before),
                               m.user_id))
    return Preview(customers=len(histories), histogram_current=_histogram(v for v, _ in before),
                   histogram_draft=_histogram(v for v, _ in after), moves=dict(moves),
                   examples=tuple(movers[:EXAMPLES]))


def _values(histories, settings: Settings, now: datetime,
            norms: Norms) -> list[tuple[float, str]]:
    raw = [score(h, settings, now, Cutoffs(0, 0), norms).value for h in histories]
    cutoffs = (absolute_cutoffs(settings) if settings.tiers.mode == "absolute"
               else percentile_cutoffs(raw, settings))
    return [(v, cutoffs.tier(v)) for v in raw]


def _histogram(values) -> dict[int, int]:
    bins: Counter[int] = Counter()
    for value in values:
        edge = int(value // BIN_WIDTH) * BIN_WIDTH
        bins[min(max(edge, -100), 90)] += 1
    return dict(sorted(bins.items()))


def histogram_svg(current: dict[int, int], draft: dict[int, int], width: int = 360,
                  height: int = 140, lines: tuple[float, float] | None = None) -> str:
    """Two histograms side by side per bin (current grey, draft blue), from −100 to +100, with
    a legend and, given `lines` (the draft's high and low thresholds), the tier lines."""
    edges = list(range(-100, 100, BIN_WIDTH))
    top = max([1, *current.values(), *draft.values()])
    slot = width / len(edges)
    bar = slot / 2 - 1
    legend = 18
    total = height + 16 + legend
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total}" '
             f'viewBox="0 0 {width} {total}" role="img">',
             f'<g font-family="{FONT}" font-size="10" fill="#68737d" '
             f'transform="translate(0 {legend})">']
    for index, edge in enumerate(edges):
        x = index * slot
        for offset, counts, colour in ((0, current, "#c2c8cc"), (bar + 1, draft, "#1f73b7")):
            h = (height - 4) * counts.get(edge, 0) / top
            parts.append(f'<rect x="{x + offset:.1f}" y="{height - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"/>')
        if edge % 50 == 0:
            parts.append(f'<text x="{x:.1f}" y="{height + 12}">{edge:+d}</text>')
    for name, threshold, colour in (("high", lines[0], "#038153"),
                                    ("low", lines[1], "#cc3340")) if lines else ():
        x = (threshold + 100) / 200 * width
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="{colour}" '
                     f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="10" fill="{colour}">'
                     f'{name}</text>')
    parts.append("</g>")
    for index, (label, colour) in enumerate((("now", "#c2c8cc"), ("with the draft", "#1f73b7"))):
        x = 4 + index * 90
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="13" font-family="{FONT}" font-size="11" '
                     f'fill="#2f3941">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)
