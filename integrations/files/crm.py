"""A dataset folder's CRM files (docs/dataset.md) as a `CrmSource`, for offline scoring.

Zendesk Sell's files hold Sell's collection envelope (`{"items": [{"data": ..., "meta":
...}]}`): `sell_contacts.json`, `sell_deals.json` and `sell_stages.json`. Bitrix24's hold its
list answer (`{"result": [...]}`): `bitrix_contacts.json` and `bitrix_deals.json`. A missing
file means no such records. The sandbox serves the same files (`read_records`). A deal
without a primary contact (Sell's `contact_id` null, Bitrix24's CONTACT_ID null, empty or "0":
a deal of a company only) is no customer's purchase and is left out, as the sync does.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from integrations.files import envelope
from integrations.files.dataset import DatasetError
from integrations.records.crm import (
    bitrix_contact_id,
    bitrix_deal_contact,
    bitrix_emails,
    normal_email,
    parse_bitrix_deal,
    parse_sell_deal,
    sell_contact_id,
    sell_deal_contact,
    sell_email,
    sell_items,
    sell_outcomes,
)
from integrations.records.values import Invalid
from plugin.core.domain import CRM_NAMES, CrmContact, Purchase

SELL_FILES = {"sell_contacts": "contact", "sell_deals": "deal", "sell_stages": "stage"}
BITRIX_FILES = ("bitrix_contacts", "bitrix_deals")


class FolderCrm:
    """Contacts and deals read once from files, looked up by email."""

    def __init__(self, name: str, contact_ids: dict[str, list[str]],
                 deals: dict[str, list[Purchase]]):
        self.name = name
        self._contact_ids = contact_ids
        self._deals = deals

    def contacts(self, email: str) -> list[CrmContact]:
        return [CrmContact(c, tuple(self._deals.get(c, ())))
                for c in self._contact_ids.get(normal_email(email), ())]


def read_records(folder: Path, name: str) -> list[dict[str, Any]]:
    """The records of one CRM file ([] when it is missing); DatasetError when unreadable."""
    path = Path(folder) / f"{name}.json"
    if not path.exists():
        return []
    try:
        with path.open("rb") as handle:
            body = json.load(handle)
        if name in SELL_FILES:
            return sell_items(body, SELL_FILES[name])
        records = body.get("result") if isinstance(body, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise Invalid('expected an object with a "result" list of objects')
        return records
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, Invalid) as error:
        raise DatasetError([f"{path.name}: {error}"]) from error


def each_record(folder: Path, name: str) -> Iterator[dict[str, Any]]:
    """The records of `read_records`, read from the file one at a time (a file of any size
    in bounded memory). A file the walk cannot read to its end is read whole, which names its
    problem as `read_records` does."""
    path = Path(folder) / f"{name}.json"
    if not path.exists():
        return
    yielded = 0
    try:
        for item in envelope.records(path, "items" if name in SELL_FILES else "result"):
            if name not in SELL_FILES:
                if not isinstance(item, dict):
                    raise Invalid("not an object")
                found = item
            elif not isinstance(item, dict) or not isinstance(item.get("data"), dict):
                raise Invalid("an item without its data")
            elif (item.get("meta") if isinstance(item.get("meta"), dict) else {}).get(
                    "type", SELL_FILES[name]) == SELL_FILES[name]:
                found = item["data"]
            else:
                continue
            yielded += 1
            yield found
    except (envelope.Unstreamable, envelope.NoList, Invalid, OSError) as error:
        whole = read_records(folder, name)  # raises the file's problem
        if yielded:
            raise DatasetError([f"{path.name}: cannot be read a record at a time ({error})"]
                               ) from error
        yield from whole


def load_crm(folder: Path, spend_source: str) -> FolderCrm | None:
    """The folder's CRM named by `spend_source` (None for `fields`)."""
    if spend_source == "sell":
        return _sell(Path(folder))
    if spend_source == "bitrix24":
        return _bitrix(Path(folder))
    return None


def _sell(folder: Path) -> FolderCrm:
    problems: list[str] = []
    try:
        outcomes = sell_outcomes(read_records(folder, "sell_stages"))
    except Invalid as error:
        problems.append(f"sell_stages.json: {error}")
        outcomes = {}
    contact_ids: dict[str, list[str]] = defaultdict(list)
    for record in each_record(folder, "sell_contacts"):
        found = _one(problems, "sell_contacts", record,
                     lambda r: (sell_email(r), sell_contact_id(r)))
        if found and found[0]:
            contact_ids[found[0]].append(found[1])
    deals: dict[str, list[Purchase]] = defaultdict(list)
    for record in each_record(folder, "sell_deals"):
        found = _one(problems, "sell_deals", record,
                     lambda r: (sell_deal_contact(r), parse_sell_deal(r, outcomes)))
        if found and found[0] is not None and found[1] is not None:
            deals[found[0]].append(found[1])
    if problems:
        raise DatasetError(problems)
    return FolderCrm(CRM_NAMES["sell"], dict(contact_ids), dict(deals))


def _bitrix(folder: Path) -> FolderCrm:
    problems: list[str] = []
    contact_ids: dict[str, list[str]] = defaultdict(list)
    for record in each_record(folder, "bitrix_contacts"):
        found = _one(problems, "bitrix_contacts", record,
                     lambda r: (bitrix_emails(r), bitrix_contact_id(r)))
        for email in dict.fromkeys(found[0]) if found else ():
            contact_ids[email].append(found[1])
    deals: dict[str, list[Purchase]] = defaultdict(list)
    for record in each_record(folder, "bitrix_deals"):
        found = _one(problems, "bitrix_deals", record,
                     lambda r: (bitrix_deal_contact(r), parse_bitrix_deal(r)))
        if found and found[0] is not None and found[1] is not None:
            deals[found[0]].append(found[1])
    if problems:
        raise DatasetError(problems)
    return FolderCrm(CRM_NAMES["bitrix24"], dict(contact_ids), dict(deals))


def _one(problems: list[str], name: str, record: dict[str, Any],
         parse: Callable[[dict[str, Any]], Any]) -> Any:
    try:
        return parse(record)
    except Invalid as error:
        key = record.get("id", record.get("ID"))
        problems.append(f"{name}.json: record {key}: {error}")
        return None



def former_emails(folder: Path) -> frozenset[str]:
    """The emails of the folder's Zendesk Sell contacts whose customer status is `former`
    (Sell's own field: a customer who has left). Bitrix24's contacts have no such field."""
    found = set()
    for record in each_record(Path(folder), "sell_contacts"):
        data = record.get("data") if isinstance(record.get("data"), dict) else record
        if data.get("customer_status") == "former" and isinstance(data.get("email"), str):
            found.add(normal_email(data["email"]))
    return frozenset(found)
