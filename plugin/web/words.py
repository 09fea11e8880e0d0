"""One locale's words: its message table (`templates/translations/<locale>.json`; a plural is
an object keyed by CLDR plural category) and Babel's formatting of numbers, amounts,
percentages, durations and dates for it (CLDR data)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from babel import Locale
from babel.dates import format_timedelta
from babel.numbers import (
    format_compact_currency,
    format_currency,
    format_decimal,
    format_percent,
    get_currency_symbol,
)

from plugin.web.i18n import catalog

PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Words:
    """One locale's message table with Babel's formatting for it."""

    def __init__(self, locale: str) -> None:
        self.code = locale
        self.locale = Locale.parse(locale)
        self.table = catalog(locale)

    def __call__(self, key: str, count: float | None = None, **values: Any) -> str:
        entry = self.table[key]
        if isinstance(entry, Mapping):
            form = self.locale.plural_form(count if count is not None else 0)
            entry = entry.get(form, entry["other"])
        if count is not None:
            values.setdefault("n", self.number(count))
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), entry)

    def number(self, value: float) -> str:
        return format_decimal(round(value), locale=self.locale)

    def signed(self, value: float) -> str:
        whole = round(value)
        sign = "+" if whole > 0 else ("−" if whole < 0 else "")
        return sign + format_decimal(abs(whole), locale=self.locale)

    def money(self, amount: float, currency: str) -> str:
        """A whole amount ("27.441 $"), or its short form where the locale has one ("$27.4K")."""
        pattern = self.locale.currency_formats["standard"].pattern.split(";")[0]
        whole = format_currency(round(amount), currency, format=re.sub(r"\.0+", "", pattern),
                                locale=self.locale, currency_digits=False)
        short = format_compact_currency(amount, currency, locale=self.locale, fraction_digits=1)
        bare = short.replace(currency, "").replace(
            get_currency_symbol(currency, locale=self.locale), "")
        return short if any(c.isalpha() for c in bare) else whole

    def percent(self, share: float) -> str:
        return format_percent(share, locale=self.locale)

    def duration(self, days: float) -> str:
        """A duration to the largest whole unit: "5 years", "3 months", "12 days"."""
        return format_timedelta(timedelta(days=max(days, 1)), threshold=1.0,
                                locale=self.locale)

    def since(self, days: float) -> str:
        """How long ago, to the largest whole unit: "5 years ago", "vor 5 Jahren"."""
        return format_timedelta(-timedelta(days=max(days, 1)), add_direction=True,
                                threshold=1.0, locale=self.locale)

    def decimal(self, value: float, digits: int = 1) -> str:
        return format_decimal(value, format="#,##0." + "0" * digits, locale=self.locale)

    def wait(self, minutes: float) -> str:
        """A wait to the largest whole unit: "4 hours", "2 days"."""
        return format_timedelta(timedelta(minutes=max(minutes, 1)), threshold=1.0,
                                locale=self.locale)

    def ago(self, delta: timedelta) -> str:
        if delta < timedelta(minutes=1):
            return self("just_now")
        return format_timedelta(-delta, add_direction=True, format="short", threshold=1.0,
                                locale=self.locale)
