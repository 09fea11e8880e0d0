"""The account overview's stored values: one row per customer (value now and 30 days ago,
tier, filters' facts, reasons) and the daily tier shares, written by the worker's refresh and
read, a page at a time, by the overview. Reading never scores anyone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, asc, delete, desc, func, select

from plugin.core.times import as_utc
from plugin.storage.schema import customer_values, tier_shares, upsert_rows
from plugin.storage.search import matching

SORTS = {"value": customer_values.c.value, "change": customer_values.c.change_30d,
         "name": customer_values.c.name, "organization": customer_values.c.organization_name}
MAX_PAGE = 200
COUNT_CAP = 10_000
"""Matches counted exactly up to here: a count costs a scan of every match."""
WRITE_CHUNK = 1000


@dataclass(frozen=True)
class Filters:
    search: str = ""
    tier: str = ""
    segment: str = ""
    organization: str = ""
    little_data: bool | None = None
    at_risk: bool | None = None


@dataclass(frozen=True)
class Row:
    user_id: int
    name: str
    organization_id: int | None
    organization_name: str
    segment: str
    value: float
    tier: str
    value_30d: float | None
    tier_30d: str | None
    change_30d: float
    little_data: bool
    at_risk: bool
    risks: tuple[str, ...]
    drivers: dict[str, Any]
    pinned: bool
    refreshed_at: datetime


class OverviewStore:
    def __init__(self, engine: Engine, account: int):
        self.engine = engine
        self.account = account

    # --- writes (the worker's refresh) ---------------------------------------------------

    def replace(self, rows: Iterable[dict[str, Any]], refreshed_at: datetime) -> int:
        """Store a refresh's rows; customers it no longer scored are removed. How many."""
        count = 0
        with self.engine.begin() as conn:
            chunk: list[dict[str, Any]] = []
            for row in rows:
                chunk.append({**row, "account_id": self.account,
                              "refreshed_at": as_utc(refreshed_at)})
                if len(chunk) >= WRITE_CHUNK:
                    upsert_rows(conn, customer_values, chunk)
                    count += len(chunk)
                    chunk = []
            if chunk:
                upsert_rows(conn, customer_values, chunk)
                count += len(chunk)
            conn.execute(delete(customer_values).where(
                customer_values.c.account_id == self.account,
                customer_values.c.refreshed_at < as_utc(refreshed_at)))
        return count

    def upsert(self, rows: Iterable[dict[str, Any]], refreshed_at: datetime) -> int:
        """Store the rows of the customers an incremental refresh scored; the others stay."""
        stamped = [{**row, "account_id": self.account, "refreshed_at": as_utc(refreshed_at)}
                   for row in rows]
        with self.engine.begin() as conn:
            for start in range(0, len(stamped), WRITE_CHUNK):
                upsert_rows(conn, customer_values, stamped[start:start + WRITE_CHUNK])
        return len(stamped)

    def save_shares(self, shares: Sequence[tuple[datetime, dict[str, int]]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(tier_shares).where(tier_shares.c.account_id == self.account))
            if shares:
                conn.execute(tier_shares.insert(), [
                    {"account_id": self.account, "day": as_utc(day), "high": c.get("high", 0),
                     "medium": c.get("medium", 0), "low": c.get("low", 0)}
                    for day, c in shares])

    # --- reads (the overview) ------------------------------------------------------------

    def page(self, filters: Filters, *, sort: str = "value", descending: bool = True,
             offset: int = 0, limit: int = 50, count: bool = True) -> tuple[list[Row], int]:
        """One page of customers matching `filters`, and how many match in all, counted up
        to COUNT_CAP + 1 (more than the cap reads "over COUNT_CAP"); -1 unless `count`."""
        column = SORTS.get(sort, customer_values.c.value)
        way = desc if descending else asc
        with self.engine.connect() as conn:
            where = self._where(conn, filters)
            rows = conn.execute(select(customer_values).where(*where).order_by(
                way(column), way(customer_values.c.user_id)).offset(max(0, offset))
                .limit(max(1, min(limit, MAX_PAGE)))).all()
            total = conn.execute(select(func.count()).select_from(
                select(customer_values.c.user_id).where(*where).limit(COUNT_CAP + 1)
                .subquery())).scalar_one() if count else -1
        return [_row(r) for r in rows], total

    def each(self, filters: Filters, *, sort: str = "value", descending: bool = True
             ) -> Iterable[Row]:
        """Every matching customer in order (the CSV export), read in pages."""
        offset = 0
        while True:
            rows, _ = self.page(filters, sort=sort, descending=descending, offset=offset,
                                limit=MAX_PAGE, count=False)
            yield from rows
            if len(rows) < MAX_PAGE:
                return
            offset += MAX_PAGE

    def movers(self, limit: int = 10) -> tuple[list[Row], list[Row]]:
        """The biggest drops and rises over 30 days."""
        drops, _ = self.page(Filters(), sort="change", descending=False, limit=limit,
                             count=False)
        rises, _ = self.page(Filters(), sort="change", descending=True, limit=limit,
                             count=False)
        return [r for r in drops if r.change_30d < 0], [r for r in rises if r.change_30d > 0]

    def shares(self) -> list[tuple[datetime, dict[str, int]]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tier_shares).where(
                tier_shares.c.account_id == self.account).order_by(tier_shares.c.day)).all()
        return [(as_utc(r.day), {"high": r.high, "medium": r.medium, "low": r.low})
                for r in rows]

    def choices(self) -> dict[str, list[str]]:
        """The segments and organizations the filters offer (distinct, sorted)."""
        with self.engine.connect() as conn:
            def distinct(column) -> list[str]:
                return [v for v in conn.execute(select(column).where(
                    customer_values.c.account_id == self.account, column != "").distinct()
                    .order_by(column).limit(500)).scalars()]
            return {"segments": distinct(customer_values.c.segment),
                    "organizations": distinct(customer_values.c.organization_name)}

    def refreshed_at(self) -> datetime | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(func.max(customer_values.c.refreshed_at)).where(
                customer_values.c.account_id == self.account)).scalar()
        return as_utc(found)

    def last_full(self) -> datetime | None:
        """When the last full refresh wrote its rows (the oldest row's time: a full refresh
        rewrites every row and removes the others; an incremental one writes newer rows)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(func.min(customer_values.c.refreshed_at)).where(
                customer_values.c.account_id == self.account)).scalar()
        return as_utc(found)

    def scored_otherwise(self, settings_version: int) -> bool:
        """Whether some row was scored under other settings than `settings_version`."""
        c = customer_values.c
        with self.engine.connect() as conn:
            return conn.execute(select(c.user_id).where(
                c.account_id == self.account,
                (c.settings_version != settings_version) | c.settings_version.is_(None))
                .limit(1)).first() is not None

    def get(self, user_id: int) -> Row | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(customer_values).where(
                customer_values.c.account_id == self.account,
                customer_values.c.user_id == user_id)).first()
        return _row(row) if row is not None else None

    def _where(self, conn: Connection, filters: Filters) -> list[Any]:
        c = customer_values.c
        where: list[Any] = [c.account_id == self.account]
        if filters.search:
            where.append(matching(conn, filters.search.lower()))
        if filters.tier:
            where.append(c.tier == filters.tier)
        if filters.segment:
            where.append(c.segment == filters.segment)
        if filters.organization:
            where.append(c.organization_name == filters.organization)
        if filters.little_data is not None:
            where.append(c.little_data.is_(filters.little_data))
        if filters.at_risk is not None:
            where.append(c.at_risk.is_(filters.at_risk))
        return where


def _row(r) -> Row:
    return Row(user_id=r.user_id, name=r.name, organization_id=r.organization_id,
               organization_name=r.organization_name, segment=r.segment, value=r.value,
               tier=r.tier, value_30d=r.value_30d, tier_30d=r.tier_30d,
               change_30d=r.change_30d, little_data=r.little_data, at_risk=r.at_risk,
               risks=tuple(r.risks), drivers=dict(r.drivers), pinned=r.pinned,
               refreshed_at=as_utc(r.refreshed_at))
