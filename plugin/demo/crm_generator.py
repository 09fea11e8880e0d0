"""The generated account's CRM: Zendesk Sell and Bitrix24 files with the same deals.

A share of the generated customers are in the CRM, as a contact with their email and a few
deals: mostly won, some lost, some still open, in the account's currency or in EUR and GBP, a
few in CHF (which no default exchange rate covers), and a few customers with a duplicate
contact on the same email. Both CRMs' files hold the same contacts and deals, each in its own
shapes, so a dataset scores the same whichever CRM the settings name. Draws come from a
`Random` of their own, so the Zendesk files stay exactly as they were without a CRM.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from random import Random
from typing import Any

from plugin.demo.files import ArrayWriter, iso, picker

CRM_SHARE = 0.45
DUPLICATE_SHARE = 0.03
DEALS_MEDIAN, DEALS_SIGMA, MAX_DEALS = 2.0, 0.8, 40
VALUE_MEDIAN, VALUE_SIGMA, MAX_VALUE = 1_200.0, 1.1, 500_000.0
CENTS_SHARE = 0.4
OUTCOMES = (("won", 0.62), ("lost", 0.28), ("open", 0.10))
CURRENCIES = (("USD", 0.70), ("EUR", 0.17), ("GBP", 0.09), ("CHF", 0.04))
"""CHF is the currency generated datasets have no default rate for: its deals are flagged."""
SELL_STAGES = ((1, "Incoming", "incoming"), (2, "Qualified", "in_progress"),
               (3, "Quote", "in_progress"), (4, "Won", "won"), (5, "Lost", "lost"))
SELL_STAGE = {"won": 4, "lost": 5, "open": 2}
BITRIX_STAGE = {"won": ("WON", "S"), "lost": ("LOSE", "F"), "open": ("PREPARATION", "P")}
BITRIX_ZONE = timezone(timedelta(hours=3))
"""Bitrix24 writes times in the portal's zone, with its offset."""
SELL_CONTACT_BASE, SELL_DEAL_BASE = 80_000_000, 81_000_000
BITRIX_CONTACT_BASE, BITRIX_DEAL_BASE = 1_000, 50_000
SELL_OWNER = 1_001
FILES = {"sell_contacts": "items", "sell_deals": "items", "bitrix_contacts": "result",
         "bitrix_deals": "result"}

_outcome, _currency = picker(OUTCOMES), picker(CURRENCIES)


class CrmWriter:
    """Writes the CRM files while the customers are generated (`add` for each one)."""

    def __init__(self, out: Path, seed: int, stack: ExitStack):
        self.rng = Random(f"crm-{seed}")
        self.contacts = 0
        self.deals = 0
        self.files = {name: stack.enter_context(ArrayWriter(out / f"{name}.json", key))
                      for name, key in FILES.items()}
        with ArrayWriter(out / "sell_stages.json", "items") as stages:
            for stage_id, name, category in SELL_STAGES:
                stages.write(_sell_item("stage", {
                    "id": stage_id, "name": name, "category": category, "active": True,
                    "position": stage_id, "likelihood": {"won": 100, "lost": 0}.get(
                        category, 20 * stage_id), "pipeline_id": 1,
                    "created_at": "2019-01-01T00:00:00Z",
                    "updated_at": "2019-01-01T00:00:00Z"}))

    def add(self, name: str, email: str, created: int, now: int,
            purchases: list[tuple[int, float]] | None = None, former: bool = False) -> bool:
        """Maybe puts this customer in the CRM (once, or twice on one email); says whether.

        With `purchases` (the customer's true purchases, times and amounts, from the
        generator's lifetimes) the contact's deals are exactly those, won, and a customer who
        has left is marked `former` (Sell's customer status); without, deals are drawn."""
        rng = self.rng
        if rng.random() >= CRM_SHARE:
            return False
        if purchases is not None:
            self._known(name, email, created, purchases, former)
            return True
        for copy in range(2 if rng.random() < DUPLICATE_SHARE else 1):
            self.contacts += 1
            sell_id, bitrix_id = SELL_CONTACT_BASE + self.contacts, \
                BITRIX_CONTACT_BASE + self.contacts
            first, _, last = name.partition(" ")
            since = rng.randint(created, now)
            self._contact(sell_id, bitrix_id, first, last + (" (2)" if copy else ""), email,
                          since)
            count = min(MAX_DEALS, max(1, int(rng.lognormvariate(
                math.log(DEALS_MEDIAN), DEALS_SIGMA))))
            for _ in range(count):
                self._deal(sell_id, bitrix_id, since, now)
        return True

    def _known(self, name: str, email: str, created: int, purchases: list[tuple[int, float]],
               former: bool) -> None:
        self.contacts += 1
        sell_id, bitrix_id = SELL_CONTACT_BASE + self.contacts, BITRIX_CONTACT_BASE + self.contacts
        first, _, last = name.partition(" ")
        self._contact(sell_id, bitrix_id, first, last, email, created,
                      status="former" if former else "current")
        for closed, amount in purchases:
            self._deal(sell_id, bitrix_id, created, closed, known=(closed, round(amount, 2)))

    def _contact(self, sell_id: int, bitrix_id: int, first: str, last: str, email: str,
                 since: int, status: str = "current") -> None:
        self.files["sell_contacts"].write(_sell_item("contact", {
            "id": sell_id, "creator_id": SELL_OWNER, "owner_id": SELL_OWNER,
            "is_organization": False, "contact_id": None, "parent_organization_id": None,
            "name": f"{first} {last}".strip(), "first_name": first, "last_name": last,
            "customer_status": status, "prospect_status": "none", "email": email,
            "phone": None, "tags": [], "custom_fields": {}, "created_at": iso(since),
            "updated_at": iso(since)}))
        self.files["bitrix_contacts"].write({
            "ID": str(bitrix_id), "NAME": first, "LAST_NAME": last, "HAS_EMAIL": "Y",
            "EMAIL": [{"ID": str(bitrix_id * 10), "VALUE_TYPE": "WORK", "VALUE": email,
                       "TYPE_ID": "EMAIL"}],
            "DATE_CREATE": _bitrix_time(since), "DATE_MODIFY": _bitrix_time(since)})

    def _deal(self, sell_id: int, bitrix_id: int, since: int, now: int,
              known: tuple[int, float] | None = None) -> None:
        rng = self.rng
        self.deals += 1
        if known is None:
            outcome, currency = _outcome(rng), _currency(rng)
            cents = rng.random() < CENTS_SHARE
            value = round(min(MAX_VALUE, rng.lognormvariate(math.log(VALUE_MEDIAN),
                                                            VALUE_SIGMA)), 2 if cents else 0)
            opened = rng.randint(since, now)
            closed = rng.randint(opened, now) if outcome != "open" else None
        else:  # a true purchase: won in the account's currency when it happened
            outcome, currency, cents = "won", "USD", True
            closed, value = known
            opened = max(since, closed - rng.randint(0, 7 * 86_400))
        changed = closed or opened
        sell_value: Any = f"{value:.2f}" if cents else int(value)
        self.files["sell_deals"].write(_sell_item("deal", {
            "id": SELL_DEAL_BASE + self.deals, "creator_id": SELL_OWNER,
            "owner_id": SELL_OWNER, "name": f"Order {self.deals}", "value": sell_value,
            "currency": currency, "hot": False, "stage_id": SELL_STAGE[outcome],
            "last_stage_change_at": iso(changed), "contact_id": sell_id,
            "organization_id": None, "estimated_close_date": None, "tags": [],
            "custom_fields": {}, "created_at": iso(opened), "updated_at": iso(changed)}))
        stage, semantic = BITRIX_STAGE[outcome]
        self.files["bitrix_deals"].write({
            "ID": str(BITRIX_DEAL_BASE + self.deals), "TITLE": f"Order {self.deals}",
            "CONTACT_ID": str(bitrix_id), "CATEGORY_ID": "0", "STAGE_ID": stage,
            "STAGE_SEMANTIC_ID": semantic, "CLOSED": "N" if closed is None else "Y",
            "OPPORTUNITY": f"{value:.2f}", "CURRENCY_ID": currency,
            "DATE_CREATE": _bitrix_time(opened), "DATE_MODIFY": _bitrix_time(changed),
            "CLOSEDATE": _bitrix_time(closed if closed is not None else now + 30 * 86_400)})


def _sell_item(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "meta": {"type": kind}}


def _bitrix_time(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone(BITRIX_ZONE).isoformat()
