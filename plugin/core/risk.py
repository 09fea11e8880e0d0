"""Why a customer may be slipping: open bad experiences and overdue purchases.

Pure: the customer's history, their assessed value and `now` in; the reasons out, in words an
agent reads. The overview lists high-value customers with any reason as "at risk".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from plugin.core.domain import CustomerHistory
from plugin.core.model import CustomerValue

OPEN_STATUSES = frozenset({"new", "open", "pending", "hold"})
BAD_RATING_WINDOW = timedelta(days=30)
"""A bad rating this recent is an open bad experience even when its ticket is solved."""
WAITING_TOO_LONG = timedelta(days=7)
"""An unsolved ticket this old is an open bad experience."""
OVERDUE_FACTOR = 1.5
"""A purchase is overdue when the time since the last one passes 1.5 × the customer's usual
gap (365 days / purchases a year), for customers with at least two purchases."""


def risks(history: CustomerHistory, value: CustomerValue, now: datetime) -> tuple[str, ...]:
    """The reasons this customer may be slipping (empty when none)."""
    found: list[str] = []
    bad = [t for t in history.tickets if t.satisfaction is not None and t.satisfaction.is_bad
           and now - BAD_RATING_WINDOW <= t.satisfaction.rated_at <= now]
    if bad:
        found.append(f"{len(bad)} bad rating{'s' if len(bad) > 1 else ''} in 30 days")
    waiting = [t for t in history.tickets if t.status in OPEN_STATUSES
               and t.created_at <= now - WAITING_TOO_LONG]
    if waiting:
        oldest = max((now - t.created_at).days for t in waiting)
        found.append(f"{len(waiting)} ticket{'s' if len(waiting) > 1 else ''} open "
                     f"for up to {oldest} days")
    spend = value.spend
    if spend is not None and spend.purchases >= 2 and spend.per_year > 0 \
            and spend.last_purchase_days is not None:
        usual = 365.0 / spend.per_year
        if spend.last_purchase_days > OVERDUE_FACTOR * usual:
            found.append(f"no purchase for {spend.last_purchase_days:.0f} days "
                         f"(usually every {usual:.0f})")
    return tuple(found)
