"""Spend from a CRM, decided here once: whose deals a customer's are.

- **Identity.** A customer is looked up by the email in the user field `crm_match_field`, or
  by their own email when that setting is empty. Emails compare trimmed and in lower case.
- **Several contacts, one email.** Their deals are *not* counted: adding them up could credit
  one customer with another's purchases (a shared mailbox, a colleague), and picking one is a
  guess. The value is computed without CRM spend, with the notice "2 CRM contacts match ...",
  until the duplicates are merged in the CRM.

A `CrmSource` answers "which contacts have this email, and what are their decided deals": the
live clients, the history store's synced copy, the dataset folder's CRM files and test fakes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from plugin.core.domain import CRM_NAMES, CrmContact, CustomerHistory, Profile, normal_email
from plugin.core.settings import Settings


class CrmSource(Protocol):
    """Contacts by email, each with its decided deals."""

    name: str

    def contacts(self, email: str) -> list[CrmContact]: ...


def lookup_email(profile: Profile, settings: Settings) -> str:
    """The email a customer is found by in the CRM ("" when there is none)."""
    if settings.crm_match_field:
        return normal_email(profile.fields.get(settings.crm_match_field))
    return normal_email(profile.email)


def noticed(history: CustomerHistory, notice: str) -> CustomerHistory:
    """The history with one more notice about its data."""
    return replace(history, notices=history.notices + (notice,))


def no_email_notice(source: str) -> str:
    return f"No email to look up in {source}"


def attach(history: CustomerHistory, contacts: list[CrmContact], source: str,
           email: str) -> CustomerHistory:
    """The history with the purchases of the one contact matching `email` (see the module's
    rules for none and for several)."""
    if not contacts:
        return history
    if len(contacts) > 1:
        return noticed(history, f"{len(contacts)} CRM contacts match {email} in {source}; "
                                "their deals are not counted until the duplicates are merged")
    return replace(history, purchases=history.purchases + contacts[0].purchases,
                   crm_contact=contacts[0])


def with_contacts(history: CustomerHistory, source: CrmSource | None,
                  settings: Settings) -> CustomerHistory:
    """The history with its deals from a source that answers without failing (the store's
    synced copy, a dataset folder); unchanged when spend comes from fields."""
    if source is None or settings.spend_source not in CRM_NAMES:
        return history
    email = lookup_email(history.profile, settings)
    if not email:
        return noticed(history, no_email_notice(source.name))
    return attach(history, source.contacts(email), source.name, email)
