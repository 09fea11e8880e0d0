"""What the value means on a generated account: the figures docs/model.md reports.

    .venv/bin/python bench/model_table.py [--customers 2000] [--now 2025-06-01T00:00:00Z]

On a seeded account (`customer-value generate`), with the default settings, it measures:
tier shares with the spend fields, without them (a Zendesk-only account) and with Zendesk Sell
as the spend source; Spearman's rank correlation of the value with the customer's ticket count
and with their spend; the largest move one ordinary ticket causes (reply and resolution at the
account's medians, not reopened, not rated) and how many tiers it changes, for customers past
the little-data threshold (all of them, and those in contact: a ticket in the last 30 days);
the share of customers whose value rises after a year with no events; and what a perfect
Zendesk-only customer scores.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from integrations.files.crm import load_crm
from integrations.files.dataset import load
from plugin.core.domain import CustomerHistory, Satisfaction, Ticket
from plugin.core.model import account_cutoffs, score
from plugin.core.norms import account_norms
from plugin.core.settings import Settings
from plugin.core.signals import Norms
from plugin.core.spend import with_contacts
from plugin.core.tagging import decide_for
from plugin.demo.generator import generate

RATES = {"EUR": 1.08, "GBP": 1.27, "CHF": 1.1}
IN_CONTACT_DAYS = 30


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            result[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return result


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rho: Pearson's correlation of the ranks (ties share their mean rank)."""
    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / var if var else 0.0


class Account:
    """The histories of one way of reading the dataset, scored as the product scores them."""

    def __init__(self, histories: list[CustomerHistory], settings: Settings, now: datetime):
        self.histories, self.settings, self.now = histories, settings, now
        self.norms = account_norms(histories, settings, now)
        self.cutoffs = account_cutoffs(histories, settings, now, self.norms)

    def score(self, history: CustomerHistory, now: datetime | None = None):
        return score(history, self.settings, now or self.now, self.cutoffs, self.norms)


def ordinary(history: CustomerHistory, now: datetime, norms: Norms):
    """One more ticket as the account's typical one: first reply, resolution and replies at
    the medians, not reopened, normal priority, not rated; solved at `now`."""
    typical = norms.typical
    created = now - timedelta(minutes=typical.resolution_minutes)
    ticket = Ticket(id=10**12, created_at=created, status="solved", priority="normal",
                    channel="email", solved_at=now,
                    first_reply_minutes=typical.first_reply_minutes,
                    resolution_minutes=typical.resolution_minutes,
                    replies=round(typical.replies), reopens=0)
    return replace(history, tickets=history.tickets + (ticket,))


def figures(name: str, account: Account, spend: dict[int, float] | None) -> dict:
    results = [(h, account.score(h)) for h in account.histories]
    shares = {tier: sum(1 for _, r in results if r.tier == tier) / len(results)
              for tier in ("high", "medium", "low")}
    values = sorted(r.value for _, r in results)
    row = {"name": name, "shares": shares, "max": values[-1],
           "deciles": [values[int(q * (len(values) - 1))] for q in (0.05, 0.25, 0.5, 0.75, 0.95)],
           "tickets_rho": spearman([r.value for _, r in results],
                                   [len(h.tickets) for h, _ in results])}
    if spend is not None:
        known = [(r.value, spend[h.profile.id]) for h, r in results if h.profile.id in spend]
        row["spend_rho"] = spearman([v for v, _ in known], [s for _, s in known])
    moves, flips, tags, contact_moves, contact_flips, contact_tags = [], 0, 0, [], 0, 0
    for history, result in results:
        if len(history.tickets) < account.settings.little_data_tickets:
            continue
        after = account.score(ordinary(history, account.now, account.norms))
        move = after.value - result.value
        moves.append(move)
        flips += after.tier != result.tier
        tagged = decide_for(result, (), account.settings).add
        retag = decide_for(after, tagged, account.settings).changes
        tags += retag
        last = max((t.created_at for t in history.tickets), default=None)
        if last is not None and (account.now - last).days <= IN_CONTACT_DAYS:
            contact_moves.append(move)
            contact_flips += after.tier != result.tier
            contact_tags += retag
    row["ordinary"] = {"customers": len(moves), "median": statistics.median(moves),
                       "largest": max(moves, key=abs), "flips": flips, "tags": tags,
                       "over_3": sum(1 for move in moves if abs(move) > 3),
                       "in_contact": len(contact_moves),
                       "in_contact_largest": max(contact_moves, key=abs, default=0.0),
                       "in_contact_flips": contact_flips, "in_contact_tags": contact_tags}
    later = account.now + timedelta(days=365)
    rises = [account.score(h, later).value - r.value for h, r in results]
    row["silence_up"] = sum(1 for d in rises if d > 0.05) / len(rises)
    row["silence_median"] = statistics.median(rises)
    return row


def perfect(now: datetime) -> CustomerHistory:
    from plugin.core.domain import Profile
    tickets = tuple(Ticket(id=i, created_at=now - timedelta(days=2190 - i * 180),
                           status="closed", solved_at=now - timedelta(days=2190 - i * 180 - 1),
                           first_reply_minutes=10.0, resolution_minutes=60.0, replies=1,
                           satisfaction=Satisfaction(2, 1, now - timedelta(
                               days=2190 - i * 180 - 1), "Great help"))
                    for i in range(12))
    return CustomerHistory(profile=Profile(id=1, name="Pat Perfect", email="pat@example.com",
                                           created_at=now - timedelta(days=2190)),
                           tickets=tickets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--now", default="2025-06-01T00:00:00+00:00")
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now).astimezone(UTC)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        generate(folder, args.customers, seed=7, now=now)
        fields = load(folder).histories()
        histories = list(fields)
        settings = Settings()
        spend = {h.profile.id: float(h.profile.fields.get("lifetime_spend") or 0)
                 for h in histories if h.profile.fields.get("lifetime_spend") is not None}
        stripped = [replace(h, profile=replace(h.profile, fields={}, organization=replace(
            h.profile.organization, fields={}) if h.profile.organization else None))
            for h in histories]
        sell = Settings(spend_source="sell", exchange_rates=RATES)
        crm = load_crm(folder, "sell")
        with_sell = [with_contacts(h, crm, sell) for h in stripped]
        deals = {h.profile.id: sum(p.amount * RATES.get(p.currency, 1.0) for p in h.purchases
                                   if p.won) for h in with_sell if h.purchases}
        rows = [figures("with spend fields", Account(histories, settings, now), spend),
                figures("Zendesk only (spend fields stripped)", Account(stripped, settings, now),
                        None),
                figures("Zendesk Sell as spend source", Account(with_sell, sell, now), deals)]
        zendesk_only = Account(stripped, settings, now)
        best = zendesk_only.score(perfect(now))
    for row in rows:
        o = row["ordinary"]
        print(f"\n## {row['name']}")
        print("tiers: " + ", ".join(f"{t} {s:.1%}" for t, s in row["shares"].items())
              + f"; highest value {row['max']:+.1f}; 5/25/50/75/95th percentiles "
              + "/".join(f"{v:+.1f}" for v in row["deciles"]))
        print(f"Spearman(value, tickets) {row['tickets_rho']:+.2f}"
              + (f"; Spearman(value, spend) {row['spend_rho']:+.2f}" if "spend_rho" in row else ""))
        print(f"one ordinary ticket, {o['customers']} customers with 3+ tickets: median "
              f"{o['median']:+.2f}, largest {o['largest']:+.2f}, {o['over_3']} moved over 3, "
              f"tier changed for {o['flips']}, tier tag for {o['tags']}; in contact "
              f"({o['in_contact']}): largest {o['in_contact_largest']:+.2f}, tier changed for "
              f"{o['in_contact_flips']}, tier tag for {o['in_contact_tags']}")
        print(f"a year of silence raises the value of {row['silence_up']:.1%} "
              f"(median change {row['silence_median']:+.2f})")
    print(f"\nperfect Zendesk-only customer: {best.value:+.1f}, {best.tier}")


if __name__ == "__main__":
    main()
