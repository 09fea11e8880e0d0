"""One customer's assessment: the value and the suggestions that follow from it.

Decisions (the tagger, backfill, the settings preview) read these objects; the JSON contract
is made from them at the edges (`plugin.web.contract`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from plugin.core.domain import CustomerHistory
from plugin.core.model import CustomerValue, Cutoffs, score
from plugin.core.settings import Settings
from plugin.core.suggestions import Suggestion, suggest


@dataclass(frozen=True, slots=True)
class Assessment:
    value: CustomerValue
    suggestions: tuple[Suggestion, ...]


def assess(
    history: CustomerHistory,
    settings: Settings,
    now: datetime,
    *,
    cutoffs: Cutoffs | None = None,
    ticket_id: int | None = None,
    gestures_used: int = 0,
) -> Assessment:
    value = score(history, settings, now, cutoffs)
    found = suggest(history, value, settings, now, ticket_id=ticket_id,
                    gestures_used=gestures_used)
    return Assessment(value=value, suggestions=tuple(found))
