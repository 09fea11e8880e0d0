"""A dataset folder read once into a scratch folder, then read back customer by customer: what
the backtest needs of an account too large to hold in memory (docs/dataset.md).

`load` (`integrations.files.dataset`) keeps the whole account in memory; this reader keeps only
the ids it checks records against. Each file is walked a record at a time
(`integrations.files.envelope`), every record checked as `load` checks it, and written to a
scratch SQLite database; one sorted pass then writes each customer's history, in the order of
`users.json` with their tickets in the order of `tickets.json`, to a file that each
`histories()` reads from the start. The same records give the same histories, problems and
warnings as `load`: a later record with the same id replaces an earlier one, a ticket keeps
its metric set and its latest rating (a survey response after a rating record after the
rating embedded in the ticket), and problems with whole files are reported before any record's.

The scratch files are the process's own (a private temporary folder, removed on exit), so the
histories are kept as pickles.
"""

from __future__ import annotations

import copyreg
import io
import pickle
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from integrations.files.dataset import (
    OPTIONAL_FILES,
    REQUIRED_FILES,
    DatasetError,
    Loader,
    no_list,
    read_whole,
)
from integrations.files.envelope import NoList, Unstreamable, records
from integrations.records.zendesk import (
    DEFAULT_SPEND_FIELD,
    DELETED,
    parse_metric,
    parse_organization,
    parse_rating,
    parse_survey,
    parse_ticket,
    parse_user,
    with_metrics,
)
from plugin.core.domain import CustomerHistory, Profile

BATCH = 5_000
"""Rows written to the scratch database per statement."""
CACHE_KIB = 32 * 1024
"""The scratch database's page cache."""
SCHEMA = """
CREATE TABLE users (seq INTEGER PRIMARY KEY, id INTEGER UNIQUE NOT NULL, blob BLOB);
CREATE TABLE tickets (seq INTEGER PRIMARY KEY, id INTEGER UNIQUE NOT NULL,
                      requester INTEGER NOT NULL, blob BLOB);
CREATE TABLE metrics (ticket_id INTEGER PRIMARY KEY, blob BLOB);
CREATE TABLE ratings (ticket_id INTEGER PRIMARY KEY, blob BLOB);
"""


class StagedDataset:
    """The histories of a staged folder, read from its scratch file on each call."""

    def __init__(self, path: Path, customers: int, warnings: list[str]):
        self._path = path
        self.customers = customers
        self.warnings = warnings

    def __len__(self) -> int:
        return self.customers

    def histories(self) -> Iterator[CustomerHistory]:
        """Every customer's history, in the order of `users.json`."""
        with self._path.open("rb") as handle:
            for _ in range(self.customers):
                yield pickle.load(handle)

    def profiles(self) -> Iterator[Profile]:
        return (history.profile for history in self.histories())


def folder_bytes(folder: Path) -> int:
    """The size of the files `staged` reads: what its progress counts up to."""
    paths = (Path(folder) / f"{name}.json" for name in (*REQUIRED_FILES, *OPTIONAL_FILES))
    return sum(path.stat().st_size for path in paths if path.is_file())


@contextmanager
def staged(folder: Path, *, spend_field: str = DEFAULT_SPEND_FIELD, skip_invalid: bool = False,
           scratch: Path | None = None, progress: Callable[[int], None] | None = None
           ) -> Iterator[StagedDataset]:
    """The folder staged in a temporary folder (under `scratch`, else the system's), removed
    when the block ends; `DatasetError` as `load` raises it. `progress` is told the bytes
    read so far (up to `folder_bytes`)."""
    with tempfile.TemporaryDirectory(prefix="customer-value-", dir=scratch) as work:
        yield _Stager(Path(folder), spend_field, skip_invalid, Path(work), progress).stage()


def _proxy(values: dict) -> MappingProxyType:
    return MappingProxyType(values)


class _Pickler(pickle.Pickler):
    """Pickles the read-only mappings the domain uses for fields as the dicts they wrap."""

    dispatch_table = {**copyreg.dispatch_table,
                      MappingProxyType: lambda proxy: (_proxy, (dict(proxy),))}


def _dumps(value: Any) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


class _Counted:
    """An iterator that counts what it has yielded."""

    def __init__(self, items: Iterator[Any]):
        self.items, self.count = items, 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.count += 1
            yield item


class _Stager(Loader):
    def __init__(self, folder: Path, spend_field: str, skip_invalid: bool, work: Path,
                 progress: Callable[[int], None] | None = None):
        super().__init__(folder, spend_field, skip_invalid)
        self.work = work
        self.progress = progress
        self.read = 0
        self.file_problems: dict[str, str] = {}
        self.db = sqlite3.connect(work / "stage.db", isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "temp_store = FILE",
                       f"cache_size = -{CACHE_KIB}"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(SCHEMA)

    def stage(self) -> StagedDataset:
        try:
            return self._stage()
        finally:
            self.db.close()

    def _stage(self) -> StagedDataset:
        if not self.folder.is_dir():
            raise DatasetError([f"{self.folder}: not a folder"])
        spend = self.spend_field
        self.db.execute("BEGIN")
        orgs = {o.id: o for o in self.parsed(
            "organizations", lambda r: parse_organization(r, spend))}
        user_ids: set[int] = set()

        def users() -> Iterator[tuple[int, int, bytes]]:
            for seq, profile in enumerate(self.parsed(
                    "users", lambda r: parse_user(r, orgs, spend))):
                user_ids.add(profile.id)
                yield seq, profile.id, _dumps(profile)
        self.write("INSERT INTO users VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                   "blob = excluded.blob", users())
        self.write("INSERT OR REPLACE INTO metrics VALUES (?, ?)",
                   ((ticket_id, _dumps(metric))
                    for ticket_id, metric in self.parsed("ticket_metrics", parse_metric)))
        deleted: set[int] = set()

        def tickets() -> Iterator[tuple[int, int, int, bytes]]:
            for seq, (requester, ticket) in enumerate(self.parsed("tickets", parse_ticket)):
                if ticket.status == DELETED:
                    deleted.add(ticket.id)
                elif requester not in user_ids:
                    self.warn(f"tickets.json: ticket {ticket.id} has an unknown requester "
                              f"{requester}")
                else:
                    yield seq, ticket.id, requester, _dumps(ticket)
        self.write("INSERT INTO tickets VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                   "requester = excluded.requester, blob = excluded.blob", tickets())
        for name, parse in (("satisfaction_ratings", parse_rating),
                            ("survey_responses", parse_survey)):
            self.write("INSERT OR REPLACE INTO ratings VALUES (?, ?)", self.ratings(
                name, parse, deleted))
        self.db.execute("COMMIT")
        if self.file_problems:
            order = [*REQUIRED_FILES, *OPTIONAL_FILES]
            raise DatasetError([self.file_problems[n] for n in order if n in self.file_problems])
        if self.problems and not self.skip_invalid:
            raise DatasetError(self.problems)
        self.db.execute("CREATE INDEX tickets_by_requester ON tickets (requester, seq)")
        return StagedDataset(self.work / "histories.pickle", self.write_histories(),
                             self.warnings + self.problems)

    def ratings(self, name: str, parse: Callable, deleted: set[int]
                ) -> Iterator[tuple[int, bytes]]:
        known = self.db.cursor()
        for ticket_id, rating in self.parsed(name, parse):
            if rating is None or ticket_id in deleted:
                continue
            if ticket_id is None or known.execute("SELECT 1 FROM tickets WHERE id = ?",
                                                  (ticket_id,)).fetchone() is None:
                self.warn(f"{name}.json: a rating of unknown ticket {ticket_id} was left out")
                continue
            yield ticket_id, _dumps(rating)

    def write(self, statement: str, rows: Iterable[tuple]) -> None:
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                self.db.executemany(statement, batch)
                batch.clear()
        if batch:
            self.db.executemany(statement, batch)

    def parsed(self, name: str, parse: Callable[[dict], Any]) -> Iterator[Any]:
        """The file's records parsed and checked as `load` does (its problems collected);
        nothing for a file that is missing or cannot be read, whose problem is kept apart."""
        path = self.folder / f"{name}.json"
        if not path.exists():
            if name in REQUIRED_FILES:
                self.file_problems[name] = read_whole(self.folder, name, True)[1] or ""
            return
        walked = _Counted(records(path, name, progress=self.advance))
        try:
            yield from self.records(name, {name: walked}, parse)
        except NoList:
            self.file_problems[name] = no_list(path, name)
        except (Unstreamable, OSError) as error:
            whole, problem = read_whole(self.folder, name, name in REQUIRED_FILES)
            if problem:
                self.file_problems[name] = problem
            elif walked.count:
                self.file_problems[name] = (f"{path.name}: cannot be read a record at a time "
                                            f"({error})")
            else:  # valid, in a form the walk does not take (UTF-16, say): read whole
                yield from self.records(name, {name: whole}, parse)

    def advance(self, count: int) -> None:
        self.read += count
        if self.progress is not None:
            self.progress(self.read)

    def write_histories(self) -> int:
        """Each customer's history, one pickle after another; how many were written."""
        rows = self.db.execute(
            "SELECT u.seq, u.blob, t.blob, m.blob, r.blob FROM users u "
            "LEFT JOIN tickets t ON t.requester = u.id "
            "LEFT JOIN metrics m ON m.ticket_id = t.id "
            "LEFT JOIN ratings r ON r.ticket_id = t.id ORDER BY u.seq, t.seq")
        count, current, profile, tickets = 0, None, None, []
        with (self.work / "histories.pickle").open("wb") as out:
            for seq, user, ticket, metric, rating in rows:
                if seq != current:
                    if profile is not None:
                        out.write(_dumps(CustomerHistory(profile=profile,
                                                         tickets=tuple(tickets))))
                        count += 1
                    current, profile, tickets = seq, pickle.loads(user), []
                if ticket is None:
                    continue
                found = with_metrics(pickle.loads(ticket),
                                     pickle.loads(metric) if metric is not None else None)
                if rating is not None:
                    found = replace(found, satisfaction=pickle.loads(rating))
                tickets.append(found)
            if profile is not None:
                out.write(_dumps(CustomerHistory(profile=profile, tickets=tuple(tickets))))
                count += 1
        return count
