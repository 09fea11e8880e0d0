"""The dataset's CRM records for the sandbox's CRM endpoints (`crm`), indexed by what they
look up: Sell contacts by email and deals by contact, Bitrix24 the same."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integrations.files.crm import read_records
from integrations.files.dataset import DatasetError
from integrations.records.crm import (
    bitrix_deal_contact,
    bitrix_emails,
    normal_email,
    sell_deal_contact,
)
from integrations.records.values import Invalid
from integrations.sandbox.loader import SandboxDataError


@dataclass
class CrmData:
    """The dataset's CRM records, indexed by what the endpoints look up."""

    sell_stages: list[dict[str, Any]] = field(default_factory=list)
    sell_contacts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sell_deals: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bitrix_contacts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bitrix_deals: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    all_sell_deals: list[dict[str, Any]] = field(default_factory=list)
    all_bitrix_deals: list[dict[str, Any]] = field(default_factory=list)
    """Every deal, those without a contact too (not found by any contact, still listed)."""

    @classmethod
    def load(cls, folder: Path) -> CrmData:
        """The folder's CRM files (missing ones: no records)."""
        try:
            read = {name: read_records(folder, name) for name in (
                "sell_stages", "sell_contacts", "sell_deals", "bitrix_contacts",
                "bitrix_deals")}
        except DatasetError as error:
            raise SandboxDataError(str(error)) from error
        return cls(
            sell_stages=read["sell_stages"],
            sell_contacts=_index(read["sell_contacts"], lambda r: [normal_email(r.get("email"))]),
            sell_deals=_index(read["sell_deals"], _contact(sell_deal_contact)),
            bitrix_contacts=_index(read["bitrix_contacts"], _bitrix_emails),
            bitrix_deals=_index(read["bitrix_deals"], _contact(bitrix_deal_contact)),
            all_sell_deals=read["sell_deals"], all_bitrix_deals=read["bitrix_deals"])


def _contact(read_contact):
    """A deal's index keys: its primary contact, by the rule the app reads it with."""
    def keys(record: dict[str, Any]) -> list[str]:
        try:
            contact = read_contact(record)
        except Invalid:
            return []
        return [contact] if contact else []
    return keys


def _index(records: list[dict[str, Any]], keys) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        for key in dict.fromkeys(keys(record)):
            if key:
                found[key].append(record)
    return dict(found)


def _bitrix_emails(record: dict[str, Any]) -> list[str]:
    try:
        return bitrix_emails(record)
    except ValueError:
        return []
