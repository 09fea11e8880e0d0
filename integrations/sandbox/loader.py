"""Loads a dataset folder (docs/dataset.md) into the sandbox's SQLite database.

Each record keeps its JSON text as it was read, next to a few indexed columns that the
endpoints filter and sort on. SQLite's own JSON functions take those columns from the text, so
Python never decodes a record of a file in the generator's layout (the envelope's opening line,
one record per line, the closing line): such files are streamed line by line and memory stays
flat however big the account is. Any other layout (pretty-printed, or saved straight from the
API with `meta` and `links`) is read whole with `json.load`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

BATCH = 5_000
TAIL_BYTES = 64
SEQ_SHIFT = 32
"""Export positions are `(timestamp << SEQ_SHIFT) | tiebreak`: ordered by time, then id."""
LOW_BITS = (1 << SEQ_SHIFT) - 1
REQUIRED = ("users", "tickets")


class SandboxDataError(Exception):
    """A dataset folder the sandbox cannot serve."""


def seq_of(stamp: int, tiebreak: int) -> int:
    """The export position of a record changed at `stamp` (see SEQ_SHIFT)."""
    return (stamp << SEQ_SHIFT) | (tiebreak & LOW_BITS)


def _epoch(*paths: str) -> str:
    """SQL for the epoch seconds of the first ISO time present at `paths` of record `j` (else 0).

    Sort columns hold 0 rather than NULL, since SQLite's row-value comparisons (the cursors)
    never match a NULL.
    """
    return f"coalesce({', '.join(f'unixepoch(j ->> {path!r})' for path in paths)}, 0)"


UPDATED = _epoch("$.updated_at", "$.created_at")
RATED = ("(SELECT value ->> '$.created_at' FROM json_each(j, '$.answers') "
         "ORDER BY value ->> '$.type' = 'rating_scale' DESC LIMIT 1)")
"""When a survey response was given: its rating answer's time (the record itself has none)."""


@dataclass(frozen=True)
class Table:
    """One dataset file's table: its indexed columns as SQL over the record's JSON text `j`."""

    name: str
    columns: tuple[tuple[str, str, str], ...]
    indexes: tuple[str, ...] = ()
    key: str = "j ->> '$.id'"
    has_key: str = "json_type(j, '$.id') = 'integer'"


TABLES = (
    Table("tickets", (
        ("seq", "INTEGER", f"(max({UPDATED}, coalesce(j ->> '$.generated_timestamp', 0)) "
                           f"<< {SEQ_SHIFT}) | ((j ->> '$.id') & {LOW_BITS})"),
        ("requester_id", "INTEGER", "j ->> '$.requester_id'"),
        ("organization_id", "INTEGER", "j ->> '$.organization_id'"),
        ("status", "TEXT", "j ->> '$.status'"),
        ("created_ts", "INTEGER", _epoch("$.created_at")),
        ("updated_ts", "INTEGER", UPDATED),
    ), ("UNIQUE (seq)", "(requester_id, updated_ts)", "(created_ts, pk)", "(updated_ts, pk)")),
    Table("users", (
        ("seq", "INTEGER", f"({UPDATED} << {SEQ_SHIFT}) | ((j ->> '$.id') & {LOW_BITS})"),
        ("created_ts", "INTEGER", _epoch("$.created_at")),
        ("updated_ts", "INTEGER", UPDATED),
    ), ("UNIQUE (seq)",)),
    Table("organizations", (("updated_ts", "INTEGER", UPDATED),), ("(updated_ts, pk)",)),
    Table("ticket_metrics", (
        ("ticket_id", "INTEGER", "j ->> '$.ticket_id'"),
        ("created_ts", "INTEGER", _epoch("$.created_at")),
    ), ("(ticket_id)", "(created_ts, pk)")),
    Table("satisfaction_ratings", (
        ("ticket_id", "INTEGER", "j ->> '$.ticket_id'"),
        ("requester_id", "INTEGER", "j ->> '$.requester_id'"),
        ("score", "TEXT", "j ->> '$.score'"),
        ("has_comment", "INTEGER", "coalesce(j ->> '$.comment', '') != ''"),
        ("created_ts", "INTEGER", _epoch("$.created_at")),
    ), ("(created_ts, pk)",)),
    Table("survey_responses", (
        ("responder_id", "INTEGER", "j ->> '$.responder_id'"),
        ("created_ts", "INTEGER", f"coalesce(unixepoch({RATED}), 0)"),
    ), ("(created_ts, pk)",), key="n", has_key="json_type(j) = 'object'"),
)
"""The dataset's tables. Survey responses have string ids, so they are keyed by position."""
EXTRA_TABLES = (
    "CREATE TABLE webhooks (pk INTEGER PRIMARY KEY, id TEXT UNIQUE, body TEXT NOT NULL)",
    "CREATE TABLE triggers (pk INTEGER PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE custom_fields (pk INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, "
    "body TEXT NOT NULL, UNIQUE (kind, key))",
)


def create_schema(db: sqlite3.Connection) -> None:
    """Creates every table (indexes come after the load, which is faster)."""
    for table in TABLES:
        columns = ", ".join(f"{name} {kind}" for name, kind, _ in table.columns)
        db.execute(f"CREATE TABLE {table.name} (pk INTEGER PRIMARY KEY, {columns}, "
                   "body TEXT NOT NULL)")
    for statement in EXTRA_TABLES:
        db.execute(statement)


def create_indexes(db: sqlite3.Connection) -> None:
    """Builds each table's indexes once its rows are in."""
    for table in TABLES:
        for number, spec in enumerate(table.indexes):
            unique, columns = ("UNIQUE ", spec[7:]) if spec.startswith("UNIQUE ") else ("", spec)
            db.execute(f"CREATE {unique}INDEX {table.name}_{number} ON {table.name} {columns}")
    db.execute("ANALYZE")


def load_folder(db: sqlite3.Connection, folder: Path) -> dict[str, int]:
    """Loads every dataset file present in `folder`; returns the record count per file.

    Raises SandboxDataError when a required file is missing or a file cannot be read.
    """
    if not folder.is_dir():
        raise SandboxDataError(f"{folder}: not a folder")
    missing = [f"{name}.json" for name in REQUIRED if not (folder / f"{name}.json").exists()]
    if missing:
        raise SandboxDataError(f"{folder}: {' and '.join(missing)} missing "
                               "(a dataset needs users.json and tickets.json)")
    counts = {}
    for table in TABLES:
        path = folder / f"{table.name}.json"
        if path.exists():
            counts[table.name] = _load_table(db, table, path)
    return counts


def _load_table(db: sqlite3.Connection, table: Table, path: Path) -> int:
    try:
        try:
            return _insert(db, table, path, _streamed(path, table.name))
        except _LayoutMismatch:
            db.execute(f"DELETE FROM {table.name}")
            return _insert(db, table, path, _whole(path, table.name))
    except (OSError, UnicodeDecodeError, ValueError, sqlite3.Error) as error:
        raise SandboxDataError(f"{path}: cannot be loaded ({error})") from error


def _insert(db: sqlite3.Connection, table: Table, path: Path, texts: Iterator[str]) -> int:
    """Inserts the records' texts; SQLite computes the indexed columns from each text."""
    names = ", ".join(name for name, _, _ in table.columns)
    values = ", ".join(expression for _, _, expression in table.columns)
    statement = (f"INSERT INTO {table.name} (pk, {names}, body) SELECT {table.key}, {values}, j "
                 f"FROM (SELECT ?1 AS j, ?2 AS n) WHERE {table.has_key}")
    count = 0
    while batch := list(islice(texts, BATCH)):
        try:
            inserted = db.executemany(statement, [(text, count + offset + 1)
                                                  for offset, text in enumerate(batch)]).rowcount
        except sqlite3.OperationalError as error:
            raise _LayoutMismatch from error
        if inserted != len(batch):
            raise SandboxDataError(f"{path}: {len(batch) - inserted} record(s) without an "
                                   "integer id, or not objects")
        count += inserted
    return count


class _LayoutMismatch(Exception):
    """The file is not in the one-record-per-line layout; read it whole instead."""


def _streamed(path: Path, key: str) -> Iterator[str]:
    """The record texts of a file in the generator's layout, one line at a time."""
    if not _has_line_layout(path, key):
        raise _LayoutMismatch
    with path.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            text = line.strip().removesuffix(",")
            if text and text != "]}":
                yield text


def _has_line_layout(path: Path, key: str) -> bool:
    with path.open("rb") as handle:
        first = handle.readline().strip()
        size = handle.seek(0, 2)
        handle.seek(max(0, size - TAIL_BYTES))
        tail = handle.read().strip()
    return first == f'{{"{key}":['.encode() and tail.endswith(b"\n]}")


def _whole(path: Path, key: str) -> Iterator[str]:
    """The record texts of a file in any layout, read with `json.load` (extra keys ignored)."""
    with path.open("rb") as handle:
        document = json.load(handle)
    items = document.get(key) if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise SandboxDataError(f'{path}: expected an object with a "{key}" list')
    for record in items:
        if not isinstance(record, dict):
            raise SandboxDataError(f"{path}: a {key} record is not an object")
        yield json.dumps(record, ensure_ascii=False, separators=(",", ":"))
