"""The sandbox's clock and Zendesk's way of writing times.

The sandbox serves a dataset taken at one moment (`now`), so its clock starts there and moves
on with real elapsed time: archiving follows the same present as the data, and writes are dated
after everything that was loaded, as they would be on a live account.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

DAY = 86_400


def iso(epoch: float) -> str:
    """Epoch seconds as Zendesk writes times: UTC, whole seconds, with a "Z"."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> int:
    """An ISO 8601 time with a zone (or a bare date, read as UTC midnight) as epoch seconds.

    Raises ValueError for text that is not a time, or a time without a zone, since guessing
    the zone would shift every comparison.
    """
    moment = datetime.fromisoformat(text)
    if len(text) == len("2024-01-01"):
        moment = moment.replace(tzinfo=UTC)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return int(moment.timestamp())


class Clock:
    """The sandbox's present: `start` at launch, advancing with real elapsed time.

    `stamp()` dates a write: a whole second, never earlier than the previous stamp and at least
    one second after `start`, so every write is later than anything the dataset holds.
    """

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic):
        if start.tzinfo is None:
            raise ValueError("the sandbox's start time must carry a time zone")
        self._start = start.timestamp()
        self._monotonic = monotonic
        self._launched = monotonic()

    @property
    def start(self) -> float:
        """The moment the dataset was taken, as epoch seconds."""
        return self._start

    def now(self) -> float:
        """The sandbox's present as epoch seconds."""
        return self._start + (self._monotonic() - self._launched)

    def stamp(self) -> int:
        """Epoch seconds to date a write with (see the class docstring)."""
        return max(int(self.now()), int(self._start) + 1)
