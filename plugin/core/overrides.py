"""A tier pinned by a person: for a customer (or every customer of an organization), with a
reason and an expiry. The model still computes the value; the pinned tier is what agents see,
what the tagger writes and what alerts read, until the pin ends or expires."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

SUBJECTS = ("user", "organization")
PINNABLE_TIERS = ("high", "medium", "low")
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class TierOverride:
    id: int
    subject: str
    """`user` or `organization`."""
    subject_id: int
    tier: str
    reason: str
    expires_at: datetime
    created_by: int
    created_by_name: str
    created_at: datetime
    ended_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at


def applicable(overrides: Iterable[TierOverride], user_id: int, organization_id: int | None,
               now: datetime) -> TierOverride | None:
    """The pin that applies to a customer now: their own before their organization's, the
    latest of each first."""
    ranked = sorted((o for o in overrides if o.active(now) and (
        (o.subject == "user" and o.subject_id == user_id)
        or (o.subject == "organization" and organization_id is not None
            and o.subject_id == organization_id))),
        key=lambda o: (o.subject != "user", -o.created_at.timestamp(), -o.id))
    return ranked[0] if ranked else None


def check(subject: str, tier: str, reason: str, expires_at: datetime | None,
          now: datetime) -> dict[str, str]:
    """What is wrong with a pin request, by field (empty when it can be saved)."""
    errors: dict[str, str] = {}
    if subject not in SUBJECTS:
        errors["subject"] = "must be user or organization"
    if tier not in PINNABLE_TIERS:
        errors["tier"] = "must be high, medium or low"
    if not reason.strip():
        errors["reason"] = "say why the tier is pinned"
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"must be at most {MAX_REASON} characters"
    if expires_at is None:
        errors["expires_at"] = "give the date the pin ends (ISO 8601)"
    elif expires_at <= now:
        errors["expires_at"] = "must be in the future"
    elif (expires_at - now).days > 366:
        errors["expires_at"] = "must be within a year; pin again when it ends"
    return errors
