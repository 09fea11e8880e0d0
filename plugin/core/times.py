"""Moments as Zendesk writes them: UTC, whole seconds, with a "Z" (`2024-05-01T12:00:00Z`).

One helper for every place the app writes a time (the JSON contract, sync cursors, datasets,
error messages), and one for reading back a stored moment as UTC.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from functools import cache

SECONDS_PER_DAY = 86_400
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def zulu(moment: datetime) -> str:
    """`moment` in UTC at second precision, with a Z."""
    if moment.tzinfo is None:
        raise ValueError("a moment must carry a time zone")
    return epoch_zulu(math.floor(moment.timestamp()))


def epoch_zulu(seconds: float) -> str:
    """Epoch seconds (whole seconds kept) in the same form; a cached date part keeps this
    cheap for the millions of times a generated dataset writes."""
    days, rest = divmod(math.floor(seconds), SECONDS_PER_DAY)
    hours, rest = divmod(rest, 3600)
    return f"{_day(days)}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


@cache
def _day(days: int) -> str:
    return date.fromordinal(EPOCH_ORDINAL + days).isoformat()


def as_utc(moment: datetime | None) -> datetime | None:
    """A moment read back from storage, in UTC (SQLite hands back naive datetimes; everything
    stored is UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
