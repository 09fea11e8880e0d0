"""The generated account's ground truth: customers live lifetimes (purchases, leaving sooner
after bad service) and truth.json says what happened; nothing happens after a customer left."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plugin.demo.generator import generate

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _records(folder: Path, name: str) -> list[dict]:
    document = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return next(iter(document.values()))


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lives")
    generate(folder, 1_500, seed=5, now=NOW, lifetimes=True)
    truth = json.loads((folder / "truth.json").read_text())
    return folder, truth


def test_nothing_happens_after_a_customer_left(account):
    folder, truth = account
    customers = truth["customers"]
    left = {int(k): parse_time(v["churned_at"]) for k, v in customers.items() if v["churned_at"]}
    assert 0 < len(left) < len(customers)
    for ticket in _records(folder, "tickets"):
        gone = left.get(ticket["requester_id"])
        assert gone is None or parse_time(ticket["created_at"]) <= gone
    emails = {u["email"]: u["id"] for u in _records(folder, "users")}
    contacts = {c["data"]["id"]: c["data"] for c in _records(folder, "sell_contacts")}
    for deal in _records(folder, "sell_deals"):
        contact = contacts[deal["data"]["contact_id"]]
        gone = left.get(emails[contact["email"]])
        assert deal["data"]["stage_id"] == 4  # true purchases are won deals
        assert gone is None or parse_time(deal["data"]["last_stage_change_at"]) <= gone
    for contact in contacts.values():
        user = str(emails[contact["email"]])
        assert (contact["customer_status"] == "former") == (not customers[user]["alive_at_end"])


def test_the_truth_agrees_with_the_files(account):
    folder, truth = account
    customers = truth["customers"]
    for user in _records(folder, "users"):
        row = customers[str(user["id"])]
        spend = user["user_fields"]["lifetime_spend"]
        assert spend is None or spend == row["spend_to_date"]
        if row["churned_at"]:
            assert row["future_spend"] == 0 and row["future_purchases"] == 0
    in_crm = sum(1 for row in customers.values() if row["in_crm"])
    assert in_crm == len(_records(folder, "sell_contacts"))
    assert any(row["future_spend"] > 0 for row in customers.values())


def test_bad_service_makes_leaving_likelier(account):
    folder, truth = account
    bad = {r["requester_id"] for r in _records(folder, "satisfaction_ratings")
           if r["score"] == "bad"}
    with_tickets = {t["requester_id"] for t in _records(folder, "tickets")}
    customers = truth["customers"]

    def left_share(ids):
        return sum(1 for i in ids if not customers[str(i)]["alive_at_end"]) / len(ids)

    assert len(bad) >= 50
    assert left_share(bad) > left_share(with_tickets - bad)


def test_same_arguments_same_truth(tmp_path):
    generate(tmp_path / "a", 120, seed=2, now=NOW, lifetimes=True)
    generate(tmp_path / "b", 120, seed=2, now=NOW, lifetimes=True)
    for name in ("truth", "tickets", "sell_deals", "users"):
        assert (tmp_path / "a" / f"{name}.json").read_bytes() == \
            (tmp_path / "b" / f"{name}.json").read_bytes()
    assert not (tmp_path / "c").exists()
    generate(tmp_path / "c", 120, seed=2, now=NOW)
    assert not (tmp_path / "c" / "truth.json").exists()
