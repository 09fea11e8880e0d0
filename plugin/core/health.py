"""Set-up problems an admin should fix, each with what to do about it: pure, from facts the
store and the services gather (`Services.health`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from plugin.core.domain import CRM_NAMES
from plugin.core.settings import Settings

STALE = timedelta(days=2)
"""A sync whose last complete run is older than this is failing (it runs every few minutes)."""


@dataclass(frozen=True)
class HealthFacts:
    deal_currencies: Mapping[str, int]
    """Won deals of the CRM the settings take spend from, by currency."""
    duplicate_contacts: int
    """Emails that more than one CRM contact carries."""
    crm_credential: bool
    crm_synced_at: datetime | None
    zendesk_synced_at: datetime | None
    failed_jobs: int


@dataclass(frozen=True)
class Problem:
    key: str
    title: str
    detail: str
    fix: str


def problems(settings: Settings, facts: HealthFacts, now: datetime) -> list[Problem]:
    found: list[Problem] = []
    crm = CRM_NAMES.get(settings.spend_source)
    if crm:
        missing = {code: n for code, n in facts.deal_currencies.items()
                   if code != settings.currency and code not in settings.exchange_rates}
        if missing:
            listing = ", ".join(f"{code} ({n:,} deals)" for code, n in sorted(missing.items()))
            found.append(Problem(
                "missing_rates", "Exchange rates are missing",
                f"Won deals in {listing} are left out of lifetime spend.",
                f"Add a rate for each currency under Model → Exchange rates (units of "
                f"{settings.currency} per unit of that currency)."))
        if facts.duplicate_contacts:
            found.append(Problem(
                "duplicate_contacts", "Several CRM contacts share an email",
                f"{facts.duplicate_contacts:,} emails match more than one {crm} contact; "
                "their deals are added up and the sidebar cannot say whose they are.",
                f"Merge the duplicate contacts in {crm}, or set a CRM match field that "
                "holds a unique email."))
        if not facts.crm_credential:
            found.append(Problem(
                "crm_unreachable", f"{crm} cannot be reached",
                f"Spend comes from {crm}, but no credential is set, so no deal is read.",
                f"Enter the {crm} credential under Credentials, or take spend from fields."))
        elif facts.crm_synced_at is None or now - facts.crm_synced_at > STALE:
            when = "has never completed" if facts.crm_synced_at is None else \
                f"last completed {(now - facts.crm_synced_at).days} days ago"
            found.append(Problem(
                "crm_unreachable", f"{crm} is not answering the sync",
                f"The {crm} sync {when}; values use the deals synced before.",
                f"Check the {crm} credential and that {crm} is up; then run "
                "`customer-value sync`."))
    if facts.zendesk_synced_at is None or now - facts.zendesk_synced_at > STALE:
        when = "has never completed" if facts.zendesk_synced_at is None else \
            f"last completed {(now - facts.zendesk_synced_at).days} days ago"
        found.append(Problem(
            "sync_failing", "The Zendesk sync is failing",
            f"The sync of tickets {when}; archived history may be missing from values.",
            "Check that the worker runs and the API token is valid; run "
            "`customer-value sync` to see the error."))
    if facts.failed_jobs:
        found.append(Problem(
            "failed_jobs", "Tagging jobs failed",
            f"{facts.failed_jobs:,} tagging jobs ran out of retries; their tickets may carry "
            "an old tier tag.",
            "Once the cause is fixed, run `customer-value failed-jobs --requeue`."))
    return found
