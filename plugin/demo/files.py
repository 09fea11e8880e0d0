"""Writing a dataset folder fast: JSON array files streamed a record per line, Zendesk's
timestamps from epoch seconds, and weighted draws. Shared by the Zendesk and CRM generators."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path
from random import Random
from typing import IO, Any

from plugin.core.times import epoch_zulu

Record = dict[str, Any]
encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
"""One record as compact JSON (non-ASCII kept, as Zendesk's exports write it)."""


def picker(table: tuple[tuple[Any, float], ...]) -> Callable[[Random], Any]:
    """A weighted draw from (value, weight) pairs, with the cumulative weights computed once."""
    values, cum = [v for v, _ in table], list(accumulate(w for _, w in table))
    return lambda rng: rng.choices(values, cum_weights=cum)[0]


def iso(ts: int | None) -> str | None:
    return None if ts is None else epoch_zulu(ts)


class ArrayWriter:
    """Streams one `{"<key>": [...]}` file: the opening, records one per line, the closing."""

    def __init__(self, path: Path, key: str) -> None:
        self.count = 0
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="\n", buffering=1 << 20)
        self._file.write(f'{{"{key}":[')

    def write(self, record: Record) -> None:
        self._file.write(("\n" if self.count == 0 else ",\n") + encode(record))
        self.count += 1

    def __enter__(self) -> ArrayWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.write("\n]}\n")
        self._file.close()
