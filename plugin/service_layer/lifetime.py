"""An account's lifetime model, fitted from the purchases its store knows.

`fit_lifetime` reads every customer's won purchases (CRM deals as synced, or purchases
recorded on the histories) as of `now` and fits BG/NBD and Gamma-Gamma behind the data gate
(`plugin.core.lifetime.gate`: at least MIN_REPEAT_CUSTOMERS customers with a repeat purchase
and MIN_HISTORY_DAYS days of purchase history). Only purchases closed by `now` are read, so a
model fitted at a past moment knows only that moment's past.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from plugin.core.domain import CustomerHistory
from plugin.core.lifetime import Gate, LifetimeModel, fit_account, summaries_of
from plugin.core.settings import Settings


def fit_lifetime(histories: Iterable[CustomerHistory], settings: Settings, now: datetime
                 ) -> tuple[LifetimeModel | None, Gate]:
    """The account's lifetime model as of `now` (None when the data gate closes, with the
    gate's reason)."""
    summaries, span = summaries_of(histories, now, settings.currency,
                                   dict(settings.exchange_rates))
    return fit_account(list(summaries.values()), span, settings.currency, now)
