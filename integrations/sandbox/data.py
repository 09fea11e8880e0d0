"""The sandbox's account: the dataset in SQLite, with the queries and writes the endpoints need.

One connection serves every thread behind a lock: SQLite answers each query in microseconds to
milliseconds, and one connection keeps the data consistent without any locking protocol. The
database lives in a temporary folder (or at `db_path`) and is rebuilt at every start, so memory
stays flat whatever the account's size.

Zendesk's archiving is a query condition, not a copy: a closed ticket whose last update is more
than ARCHIVE_DAYS before the clock's present leaves the list endpoints and ticket metrics, and
stays in the exports, search and show.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from integrations.sandbox.clock import DAY, Clock, iso
from integrations.sandbox.crm_data import CrmData
from integrations.sandbox.loader import create_indexes, create_schema, load_folder, seq_of
from integrations.sandbox.paging import CursorRequest, Listing, OffsetRequest, Page

Record = dict[str, Any]
ARCHIVE_DAYS = 120
CACHE_KIB = 64 * 1024
ACTIVE = ("tickets.status <> 'deleted' AND "
          "NOT (tickets.status = 'closed' AND tickets.updated_ts < ?)")
"""Neither deleted nor archived; the parameter is `archive_cutoff()`."""
ID_TABLES = ("tickets", "users", "organizations", "ticket_metrics")


def dumps(record: Record) -> str:
    """A record's stored JSON text (compact, UTF-8 kept)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class Store:
    """The loaded account. Every method is thread-safe."""

    def __init__(self, db: sqlite3.Connection, clock: Clock, counts: dict[str, int],
                 scratch: Path | None):
        self._db = db
        self._lock = threading.RLock()
        self.clock = clock
        self.counts = counts
        self._scratch = scratch
        self.crm = CrmData()
        self._last_seq = {name: self._scalar(f"SELECT MAX(seq) FROM {name}") or 0
                          for name in ("tickets", "users")}

    @classmethod
    def open(cls, folder: Path, now: datetime, db_path: Path | None = None) -> Store:
        """Loads the dataset `folder` into a fresh database; `now` starts the clock."""
        scratch = None
        if db_path is None:
            scratch = Path(tempfile.mkdtemp(prefix="zendesk-sandbox-"))
            db_path = scratch / "sandbox.sqlite3"
        elif db_path.exists():
            db_path.unlink()
        db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        try:
            db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            db.execute("PRAGMA synchronous = OFF")
            db.execute("PRAGMA journal_mode = OFF")
            create_schema(db)
            db.execute("BEGIN")
            counts = load_folder(db, Path(folder))
            db.execute("COMMIT")
            create_indexes(db)
            db.execute("PRAGMA journal_mode = MEMORY")
        except BaseException:
            db.close()
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            raise
        store = cls(db, Clock(now), counts, scratch)
        try:
            store.crm = CrmData.load(Path(folder))
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Closes the database and removes its temporary folder."""
        with self._lock:
            self._db.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _scalar(self, sql: str, params: Iterable[Any] = ()) -> Any:
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

    @property
    def has_surveys(self) -> bool:
        """Whether the dataset has survey_responses.json (the account uses the newer CSAT)."""
        return "survey_responses" in self.counts

    def archive_cutoff(self) -> int:
        """Closed tickets last updated before this epoch second are archived."""
        return int(self.clock.now()) - ARCHIVE_DAYS * DAY

    def body(self, table: str, pk: int) -> str | None:
        """The JSON text of one record of an id-keyed table, or None."""
        assert table in ID_TABLES
        return self._scalar(f"SELECT body FROM {table} WHERE pk = ?", (pk,))

    def bodies(self, table: str, pks: Iterable[int]) -> list[str]:
        """JSON texts of the records with these ids, in the order asked, missing ones skipped."""
        assert table in ID_TABLES
        wanted = list(dict.fromkeys(pks))
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        found = dict(self._rows(f"SELECT pk, body FROM {table} WHERE pk IN ({marks})", wanted))
        return [found[pk] for pk in wanted if pk in found]

    def metric_of(self, ticket_id: int) -> str | None:
        """The ticket's metric record, or None when it has none or is archived."""
        return self._scalar(
            f"SELECT m.body FROM ticket_metrics m JOIN tickets ON tickets.pk = m.ticket_id "
            f"WHERE m.ticket_id = ? AND {ACTIVE}", (ticket_id, self.archive_cutoff()))

    def metrics_of(self, ticket_ids: Iterable[int]) -> list[str]:
        """Metric records of these tickets, archived ones included (the export's metric_sets)."""
        wanted = list(ticket_ids)
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        return [body for (body,) in self._rows(
            f"SELECT body FROM ticket_metrics WHERE ticket_id IN ({marks}) ORDER BY ticket_id",
            wanted)]

    def changes(self, table: str, after: int, size: int) -> list[tuple[int, int, str]]:
        """(position, id, JSON) of records changed after export position `after`, oldest first."""
        assert table in ("tickets", "users")
        return self._rows(f"SELECT seq, pk, body FROM {table} WHERE seq > ? ORDER BY seq "
                          "LIMIT ?", (after, size))

    def organizations_since(self, start_time: int, size: int) -> list[tuple[int, str]]:
        """(updated_ts, JSON) of organizations updated at or after `start_time`, oldest first.

        A page never ends inside one second: records sharing the last time come along, so a
        time-based client resuming from `end_time` cannot loop on a full page of equal times.
        """
        rows = self._rows("SELECT updated_ts, body FROM organizations WHERE updated_ts >= ? "
                          "ORDER BY updated_ts, pk LIMIT ?", (start_time, size))
        if len(rows) == size:
            last = rows[-1][0]
            rows = [row for row in rows if row[0] < last] + self._rows(
                "SELECT updated_ts, body FROM organizations WHERE updated_ts = ? ORDER BY pk",
                (last,))
        return rows

    def has_organizations_after(self, stamp: int) -> bool:
        """Whether any organization was updated after epoch second `stamp`."""
        return bool(self._scalar("SELECT 1 FROM organizations WHERE updated_ts > ? LIMIT 1",
                                 (stamp,)))

    def page(self, listing: Listing, request: CursorRequest) -> Page:
        """One cursor page of `listing`: an indexed range query from the cursor's position."""
        backwards = request.before is not None
        position = request.before if backwards else request.after
        descending = listing.descending != backwards
        where = list(listing.where)
        params = list(listing.params)
        if position is not None:
            where.append(f"({listing.sort}, {listing.key}) {'<' if descending else '>'} (?, ?)")
            params += list(position)
        direction = "DESC" if descending else "ASC"
        rows = self._rows(
            f"SELECT {listing.sort}, {listing.key}, {listing.body} FROM {listing.source}"
            f"{_where(where)} ORDER BY {listing.sort} {direction}, {listing.key} {direction} "
            f"LIMIT ?", [*params, request.size + 1])
        has_more = len(rows) > request.size
        rows = rows[:request.size]
        if backwards:
            rows.reverse()
        if not rows:
            return Page([], False)
        return Page([row[2] for row in rows], has_more, (rows[0][0], rows[0][1]),
                    (rows[-1][0], rows[-1][1]))

    def count(self, listing: Listing) -> int:
        """How many records `listing` holds."""
        return self._scalar(f"SELECT COUNT(*) FROM {listing.source}{_where(listing.where)}",
                            listing.params)

    def offset_page(self, listing: Listing, request: OffsetRequest) -> Page:
        """One offset page of `listing`, with the total count."""
        direction = "DESC" if listing.descending else "ASC"
        total = self.count(listing)
        rows = self._rows(
            f"SELECT {listing.body} FROM {listing.source}{_where(listing.where)} ORDER BY "
            f"{listing.sort} {direction}, {listing.key} {direction} LIMIT ? OFFSET ?",
            [*listing.params, request.per_page, request.offset])
        return Page([row[0] for row in rows], request.offset + len(rows) < total, total=total)

    # -- writing ---------------------------------------------------------------------------

    def _next_seq(self, table: str, stamp: int) -> int:
        seq = max(self._last_seq[table] + 1, seq_of(stamp, 0))
        self._last_seq[table] = seq
        return seq

    def edit_ticket(self, ticket_id: int, edit: Callable[[Record], Record]) -> Record | None:
        """Applies `edit` to the ticket (it may raise to refuse) and dates the change now.

        The ticket's `updated_at` and `generated_timestamp` move to the clock's stamp and its
        export position to the end, so the next incremental export returns it. None when the
        ticket does not exist.
        """
        with self._lock:
            text = self.body("tickets", ticket_id)
            if text is None:
                return None
            stamp = self.clock.stamp()
            record = edit(json.loads(text))
            record["updated_at"], record["generated_timestamp"] = iso(stamp), stamp
            self._db.execute(
                "UPDATE tickets SET seq = ?, status = ?, requester_id = ?, organization_id = ?, "
                "updated_ts = ?, body = ? WHERE pk = ?",
                (self._next_seq("tickets", stamp), record.get("status"),
                 record.get("requester_id"), record.get("organization_id"), stamp,
                 dumps(record), ticket_id))
            return record

    def edit_person(self, table: str, pk: int, edit: Callable[[Record], Record]
                    ) -> Record | None:
        """Applies `edit` to a user or organization and dates the change now: its
        `updated_at` moves to the clock's stamp (and a user's export position to the end), so
        the next incremental export returns it. None when it does not exist."""
        assert table in ("users", "organizations")
        with self._lock:
            text = self.body(table, pk)
            if text is None:
                return None
            stamp = self.clock.stamp()
            record = edit(json.loads(text))
            record["updated_at"] = iso(stamp)
            if table == "users":
                self._db.execute("UPDATE users SET seq = ?, updated_ts = ?, body = ? WHERE pk = ?",
                                 (self._next_seq("users", stamp), stamp, dumps(record), pk))
            else:
                self._db.execute("UPDATE organizations SET updated_ts = ?, body = ? WHERE pk = ?",
                                 (stamp, dumps(record), pk))
            return record

    def fields(self, kind: str) -> list[Record]:
        """The custom user or organization fields, in creation order."""
        return [json.loads(text) for (text,) in self._rows(
            "SELECT body FROM custom_fields WHERE kind = ? ORDER BY pk", (kind,))]

    def add_field(self, kind: str, build: Callable[[int], Record]) -> Record | None:
        """Stores a new custom field made by `build(field_id)`; None if its key is taken."""
        with self._lock:
            field_id = (self._scalar("SELECT MAX(pk) FROM custom_fields") or 0) + 1
            record = build(field_id)
            try:
                self._db.execute("INSERT INTO custom_fields VALUES (?, ?, ?, ?)",
                                 (field_id, kind, record["key"], dumps(record)))
            except sqlite3.IntegrityError:
                return None
            return record

    def create_ticket(self, build: Callable[[int, int, int], tuple[Record, Record]]) -> Record:
        """Adds a ticket and its metric record; `build(ticket_id, metric_id, stamp)` makes both
        (and may raise to refuse)."""
        with self._lock:
            ticket_id = (self._scalar("SELECT MAX(pk) FROM tickets") or 0) + 1
            metric_id = (self._scalar("SELECT MAX(pk) FROM ticket_metrics") or 0) + 1
            stamp = self.clock.stamp()
            ticket, metric = build(ticket_id, metric_id, stamp)
            self._db.execute("INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
                ticket_id, self._next_seq("tickets", stamp), ticket.get("requester_id"),
                ticket.get("organization_id"), ticket.get("status"), stamp, stamp,
                dumps(ticket)))
            self._db.execute("INSERT INTO ticket_metrics VALUES (?, ?, ?, ?)",
                             (metric["id"], ticket_id, stamp, dumps(metric)))
            return ticket

    # -- webhooks and triggers -------------------------------------------------------------

    def saved(self, table: str, key: int | str) -> Record | None:
        """A stored webhook (by its string id) or trigger (by its number)."""
        column = _object_key(table)
        text = self._scalar(f"SELECT body FROM {table} WHERE {column} = ?", (key,))
        return None if text is None else json.loads(text)

    def save(self, table: str, record: Record) -> None:
        """Inserts or replaces a webhook or trigger (keyed by its `id`)."""
        with self._lock:
            if table == "webhooks":
                self._db.execute("INSERT INTO webhooks (id, body) VALUES (?, ?) ON CONFLICT(id) "
                                 "DO UPDATE SET body = excluded.body",
                                 (record["id"], dumps(record)))
            else:
                self._db.execute("INSERT OR REPLACE INTO triggers VALUES (?, ?)",
                                 (record["id"], dumps(record)))

    def forget(self, table: str, key: int | str) -> bool:
        """Deletes a webhook or trigger; whether it existed."""
        with self._lock:
            cursor = self._db.execute(f"DELETE FROM {table} WHERE {_object_key(table)} = ?",
                                      (key,))
            return cursor.rowcount > 0

    def add_trigger(self, base: int, build: Callable[[int], Record]) -> Record:
        """Stores a new trigger made by `build(trigger_id)`, its id the next one above `base`."""
        with self._lock:
            trigger = build(max(base, self._scalar("SELECT MAX(pk) FROM triggers") or 0) + 1)
            self.save("triggers", trigger)
            return trigger


def _object_key(table: str) -> str:
    assert table in ("webhooks", "triggers")
    return "id" if table == "webhooks" else "pk"


def _where(conditions: Iterable[str]) -> str:
    conditions = list(conditions)
    return " WHERE " + " AND ".join(f"({c})" for c in conditions) if conditions else ""
