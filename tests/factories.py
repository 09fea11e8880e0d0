"""Small builders of domain values for tests: a readable history in a line or two."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from plugin.core.domain import (
    CustomerHistory,
    Organization,
    Profile,
    Purchase,
    Satisfaction,
    Ticket,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def profile(id: int = 1, name: str = "Ana Silva", *, joined_days_ago: float = 800,
            tags: tuple[str, ...] = (), organization: Organization | None = None,
            fields: dict | None = None) -> Profile:
    return Profile(id=id, name=name, email=f"user{id}@example.com",
                   created_at=days_ago(joined_days_ago), tags=tags, organization=organization,
                   fields=fields or {})


def rating(good: bool | int = True, *, days: float = 10, comment: str = "",
           scale: int = 2) -> Satisfaction:
    score = int(good) if scale == 2 else good
    return Satisfaction(scale=scale, score=score, rated_at=days_ago(days), comment=comment)


def ticket(id: int = 1, *, days: float = 10, **changes) -> Ticket:
    base = Ticket(id=id, created_at=days_ago(days), status="solved", priority="normal",
                  channel="email", subject=f"Question {id}", first_reply_minutes=60.0,
                  resolution_minutes=600.0, replies=2, reopens=0)
    return replace(base, **changes)


def purchase(amount: float = 1000.0, *, days: float = 30, won: bool = True,
             currency: str = "USD") -> Purchase:
    return Purchase(amount=amount, currency=currency, won=won, closed_at=days_ago(days))


def history(*tickets: Ticket, purchases: tuple[Purchase, ...] = (), **profile_args
            ) -> CustomerHistory:
    return CustomerHistory(profile=profile(**profile_args), tickets=tuple(tickets),
                           purchases=purchases)


def customer(user_id=1, email="ann@example.com"):
    return CustomerHistory(profile=Profile(id=user_id, name="Ann Lee", email=email,
                                           created_at=NOW - timedelta(days=900)))
