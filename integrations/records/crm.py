"""CRM records read into domain values: Zendesk Sell's and Bitrix24's contacts and deals.

The CRM clients (`integrations.sell`, `integrations.bitrix24`), the dataset folder's CRM files
and the sandbox all hold records in each CRM's own shape, so they share these readers. A deal
becomes a `Purchase` only once it is decided: won or lost. Open deals are neither and are left
out. A bad value raises `records.Invalid` naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from integrations.records.values import Invalid, amount, parse_time
from plugin.core.domain import Purchase, normal_email

UNKNOWN_CURRENCY = "unknown"
"""The currency of a deal that names none: never converted, so such deals are flagged."""
SELL_WON, SELL_LOST = "won", "lost"
"""Zendesk Sell's stage categories of decided deals (the Stage object's `category`; the
others, such as `incoming` and `in_progress`, are open). developer.zendesk.com/api-reference/
sales-crm/resources/stages/"""
BITRIX_WON, BITRIX_LOST = "S", "F"
"""Bitrix24's STAGE_SEMANTIC_ID of a deal: S success, F failure, P in progress.
apidocs.bitrix24.com/api-reference/crm/deals/"""


class UnknownStage(Invalid):
    """A Sell deal in a stage the account's stages (as last read) do not list."""

    def __init__(self, stage: int):
        self.stage = stage
        super().__init__(f"stage_id: unknown stage {stage}")


@dataclass(frozen=True, slots=True)
class ContactFact:
    """A CRM contact as the history store keeps it: its id, its addresses, when it changed."""

    id: str
    emails: tuple[str, ...]
    modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class DealFact:
    """A CRM deal as the history store keeps it: the purchase it is once decided (None while
    open, so a deal reopened in the CRM stops counting), its contact, when it changed."""

    id: str
    contact_id: str | None
    purchase: Purchase | None
    modified: datetime | None = None


@dataclass
class CrmPage:
    """One page of a CRM's bulk listing: its facts, where the next page starts (a Sell page
    number, a Bitrix24 `start`; None after the last), and records left out as unreadable."""

    items: list[Any]
    next: int | None
    skipped: int = 0


# --- Zendesk Sell ---------------------------------------------------------------------------

def sell_items(body: Any, kind: str) -> list[dict[str, Any]]:
    """The `data` objects of a Sell collection envelope (`{"items": [{"data": {...},
    "meta": {"type": ...}}], "meta": {...}}`, developer.zendesk.com/api-reference/sales-crm/
    responses); items of another `meta.type` than `kind` are skipped."""
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise Invalid('expected an object with an "items" list')
    found = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("data"), dict):
            raise Invalid('an item without a "data" object')
        meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
        if meta.get("type", kind) == kind:
            found.append(item["data"])
    return found


def sell_outcomes(stages: Iterable[Mapping[str, Any]]) -> dict[int, bool | None]:
    """Each stage id's outcome: True won, False lost, None still open."""
    outcomes: dict[int, bool | None] = {}
    for stage in stages:
        stage_id = stage.get("id")
        if isinstance(stage_id, bool) or not isinstance(stage_id, int):
            raise Invalid(f"stage id: expected a number, not {stage_id!r}")
        category = stage.get("category")
        outcomes[stage_id] = True if category == SELL_WON else (
            False if category == SELL_LOST else None)
    return outcomes


def sell_contact_id(record: Mapping[str, Any]) -> str:
    return _record_id(record.get("id"), "id")


def sell_email(record: Mapping[str, Any]) -> str:
    return normal_email(record.get("email"))


def sell_deal_contact(record: Mapping[str, Any]) -> str | None:
    """The deal's primary contact (None when it has none: a deal of an organization)."""
    contact = record.get("contact_id")
    return None if contact is None else _record_id(contact, "contact_id")


def sell_contact_fact(record: Mapping[str, Any]) -> ContactFact:
    email = sell_email(record)
    return ContactFact(sell_contact_id(record), (email,) if email else (),
                       _when(record, "updated_at"))


def sell_deal_fact(record: Mapping[str, Any], outcomes: Mapping[int, bool | None]) -> DealFact:
    return DealFact(_record_id(record.get("id"), "id"), sell_deal_contact(record),
                    parse_sell_deal(record, outcomes), _when(record, "updated_at"))


def parse_sell_deal(record: Mapping[str, Any], outcomes: Mapping[int, bool | None]
                    ) -> Purchase | None:
    """A Sell Deal as a purchase, or None while open. `value` is a number, or a string with
    two decimals when it has a decimal part (developer.zendesk.com/docs/rest/reference/deals);
    a deal is decided when it moved to a won or lost stage, dated by `last_stage_change_at`."""
    stage = record.get("stage_id")
    if isinstance(stage, bool) or not isinstance(stage, int):
        raise Invalid(f"stage_id: expected a number, not {stage!r}")
    if stage not in outcomes:
        raise UnknownStage(stage)
    won = outcomes[stage]
    if won is None:
        return None
    value = record.get("value")
    return Purchase(
        amount=amount(0 if value is None else value, "value"),
        currency=_currency(record.get("currency"), "currency"), won=won,
        closed_at=_when(record, "last_stage_change_at") or _when(record, "updated_at"),
        id=_record_id(record.get("id"), "id"))


# --- Bitrix24 -------------------------------------------------------------------------------

def bitrix_contact_id(record: Mapping[str, Any]) -> str:
    return _record_id(record.get("ID"), "ID")


def bitrix_emails(record: Mapping[str, Any]) -> list[str]:
    """A contact's addresses: its EMAIL multi-field, a list of `{"VALUE": ..., "VALUE_TYPE":
    ...}` (apidocs.bitrix24.com/api-reference/crm/data-types.html#crm_multifield)."""
    values = record.get("EMAIL") or []
    if not isinstance(values, list):
        raise Invalid("EMAIL: expected a list of multi-field values")
    return [normal_email(v.get("VALUE")) for v in values if isinstance(v, dict)
            and normal_email(v.get("VALUE"))]


NO_CONTACT = (None, "", "0", 0)
"""How Bitrix24 says a deal has no primary contact (a deal of a company only)."""


def bitrix_deal_contact(record: Mapping[str, Any]) -> str | None:
    """The deal's primary contact, CONTACT_ID (None when it has none)."""
    contact = record.get("CONTACT_ID")
    return None if contact in NO_CONTACT else _record_id(contact, "CONTACT_ID")


def bitrix_contact_fact(record: Mapping[str, Any]) -> ContactFact:
    return ContactFact(bitrix_contact_id(record), tuple(dict.fromkeys(bitrix_emails(record))),
                       _when(record, "DATE_MODIFY"))


def bitrix_deal_fact(record: Mapping[str, Any]) -> DealFact:
    return DealFact(_record_id(record.get("ID"), "ID"), bitrix_deal_contact(record),
                    parse_bitrix_deal(record), _when(record, "DATE_MODIFY"))


def parse_bitrix_deal(record: Mapping[str, Any]) -> Purchase | None:
    """A Bitrix24 deal (crm.deal.list) as a purchase, or None while in progress. OPPORTUNITY
    is a decimal string; CLOSEDATE and DATE_MODIFY ISO 8601 times with their offsets.

    CLOSEDATE is the *planned* close date a person typed, often still in the future when the
    deal is won early; a purchase dated after `now` would be left out of the measures. So a
    decided deal is dated by the earlier of CLOSEDATE and DATE_MODIFY (its last change, which
    the stage change that decided it is among): never later than it really closed."""
    semantic = record.get("STAGE_SEMANTIC_ID")
    if semantic not in (BITRIX_WON, BITRIX_LOST):
        return None
    value = record.get("OPPORTUNITY")
    return Purchase(
        amount=amount(0 if value in (None, "") else value, "OPPORTUNITY"),
        currency=_currency(record.get("CURRENCY_ID"), "CURRENCY_ID"),
        won=semantic == BITRIX_WON, closed_at=_bitrix_decided_at(record),
        id=_record_id(record.get("ID"), "ID"))


def _bitrix_decided_at(record: Mapping[str, Any]) -> datetime | None:
    dates = [d for d in (_when(record, "CLOSEDATE"), _when(record, "DATE_MODIFY"))
             if d is not None]
    return min(dates) if dates else None


# --- shared ---------------------------------------------------------------------------------

def _record_id(value: Any, key: str) -> str:
    if isinstance(value, bool) or value is None or str(value).strip() == "":
        raise Invalid(f"{key}: missing")
    if not isinstance(value, int | str):
        raise Invalid(f"{key}: expected an id, not {value!r}")
    return str(value).strip()


def _currency(value: Any, key: str) -> str:
    if value is None or value == "":
        return UNKNOWN_CURRENCY
    if not isinstance(value, str):
        raise Invalid(f"{key}: expected a currency code, not {value!r}")
    return value.strip().upper()


def _when(record: Mapping[str, Any], key: str) -> datetime | None:
    value = record.get(key)
    return None if value in (None, "") else parse_time(value, key)
