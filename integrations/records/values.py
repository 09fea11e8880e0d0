"""The checks every record reader shares (Zendesk's and the CRMs'): a bad value raises
`Invalid` naming its field."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

MAX_AMOUNT = 1e12
"""Amounts above this are data errors, not customers."""


class Invalid(ValueError):
    """One bad value in one record."""


def parse_time(value: Any, key: str) -> datetime:
    if not isinstance(value, str):
        raise Invalid(f"{key}: expected an ISO 8601 timestamp, not {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{key}: not an ISO 8601 timestamp: {value!r}") from None
    if moment.tzinfo is None:
        raise Invalid(f"{key}: timestamp {value!r} has no time zone (add Z for UTC)")
    return moment


def amount(value: Any, key: str) -> float:
    if isinstance(value, bool):
        raise Invalid(f"{key}: expected an amount, not {value!r}")
    try:
        amount = float(value)
    except (TypeError, ValueError):
        raise Invalid(f"{key}: expected an amount, not {value!r}") from None
    if not math.isfinite(amount):
        raise Invalid(f"{key}: expected a finite amount, not {value!r}")
    if amount < 0:
        raise Invalid(f"{key}: negative amount {value!r}")
    if amount > MAX_AMOUNT:
        raise Invalid(f"{key}: amount {value!r} is implausibly large (over 10^12)")
    return amount
