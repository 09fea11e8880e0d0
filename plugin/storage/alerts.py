"""Alert rules and the alerts they raised: when, for whom, why, what each action did, and when
the episode ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    Float,
    Integer,
    String,
    cast,
    literal,
    null,
    select,
    union_all,
)

from plugin.core.alerts import AlertRule
from plugin.core.times import as_utc
from plugin.storage.schema import alert_events, alert_rules, customer_values


@dataclass(frozen=True)
class Alert:
    id: int
    rule_id: int
    user_id: int
    fired_at: datetime
    ended_at: datetime | None
    reason: str
    done: tuple[dict[str, Any], ...]


class AlertStore:
    def __init__(self, engine: Engine, account: int):
        self.engine = engine
        self.account = account

    def add_rule(self, rule: dict[str, Any], *, author_id: int, now: datetime) -> AlertRule:
        with self.engine.begin() as conn:
            rule_id = conn.execute(alert_rules.insert().values(
                account_id=self.account, created_by=author_id, created_at=as_utc(now),
                **rule)).inserted_primary_key[0]
        return AlertRule(rule_id, rule["kind"], rule["threshold"], tuple(rule["actions"]),
                         rule["enabled"])

    def remove_rule(self, rule_id: int) -> bool:
        """Switch a rule off (its alerts stay listed); False when there is no such rule."""
        with self.engine.begin() as conn:
            done = conn.execute(alert_rules.update().where(
                alert_rules.c.account_id == self.account, alert_rules.c.id == rule_id,
                alert_rules.c.enabled.is_(True)).values(enabled=False))
        return done.rowcount > 0

    def rules(self, *, enabled_only: bool = True) -> list[AlertRule]:
        query = select(alert_rules).where(alert_rules.c.account_id == self.account)
        if enabled_only:
            query = query.where(alert_rules.c.enabled.is_(True))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(alert_rules.c.id)).all()
        return [AlertRule(r.id, r.kind, r.threshold, tuple(r.actions), r.enabled) for r in rows]

    def open_alerts(self, user_id: int | None = None) -> dict[tuple[int, int], int]:
        """The episodes still going on, as (rule, customer) → alert id."""
        query = select(alert_events.c.id, alert_events.c.rule_id, alert_events.c.user_id).where(
            alert_events.c.account_id == self.account, alert_events.c.ended_at.is_(None))
        if user_id is not None:
            query = query.where(alert_events.c.user_id == user_id)
        with self.engine.connect() as conn:
            return {(r.rule_id, r.user_id): r.id for r in conn.execute(query)}

    def customer(self, user_id: int) -> tuple[tuple[float | None, str | None] | None,
                                              dict[tuple[int, int], int]]:
        """What a check of one customer reads, in one query: their value and tier 30 days
        ago as the overview last stored them (None without a stored row), and their open
        episodes as `open_alerts` gives them."""
        row = select(literal("row").label("kind"), customer_values.c.value_30d.label("value"),
                     customer_values.c.tier_30d.label("tier"),
                     cast(null(), BigInteger).label("alert"),
                     cast(null(), Integer).label("rule")).where(
            customer_values.c.account_id == self.account, customer_values.c.user_id == user_id)
        going = select(literal("alert"), cast(null(), Float), cast(null(), String(8)),
                       alert_events.c.id, alert_events.c.rule_id).where(
            alert_events.c.account_id == self.account, alert_events.c.user_id == user_id,
            alert_events.c.ended_at.is_(None))
        with self.engine.connect() as conn:
            found = conn.execute(union_all(row, going)).all()
        before = next(((r.value, r.tier) for r in found if r.kind == "row"), None)
        return before, {(r.rule, user_id): r.alert for r in found if r.kind == "alert"}

    def fire(self, rule_id: int, user_id: int, reason: str, now: datetime) -> int:
        with self.engine.begin() as conn:
            return conn.execute(alert_events.insert().values(
                account_id=self.account, rule_id=rule_id, user_id=user_id,
                fired_at=as_utc(now), reason=reason[:500], done=[])).inserted_primary_key[0]

    def record(self, alert_id: int, done: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(alert_events.update().where(
                alert_events.c.account_id == self.account, alert_events.c.id == alert_id)
                .values(done=done))

    def end(self, alert_id: int, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(alert_events.update().where(
                alert_events.c.account_id == self.account, alert_events.c.id == alert_id)
                .values(ended_at=as_utc(now)))

    def recent(self, limit: int = 50) -> list[Alert]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(alert_events).where(
                alert_events.c.account_id == self.account).order_by(
                alert_events.c.id.desc()).limit(limit)).all()
        return [Alert(r.id, r.rule_id, r.user_id, as_utc(r.fired_at), as_utc(r.ended_at),
                      r.reason, tuple(r.done)) for r in rows]
