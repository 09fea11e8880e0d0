"""Why does the value predict leaving as it does? The diagnosis behind docs/model.md's
backtest figures, on the same generated account as `bench/backtest_table.py`.

    .venv/bin/python bench/leaving_diagnosis.py [--customers 2000] [--data DIR]

(run from the checkout; DIR: a folder `generate --lifetimes --seed 7 --now
2025-06-01T00:00:00Z` wrote, else one is generated)

For the customers the backtest judges (active at T = now − 90 days), it prints, as JSON:

- how many are alive yet silent in (T, T + 90 d] (truth.json: still there at T + 90 d, no
  ticket and no purchase), and each customer's true rates of tickets and purchases;
- how many the CRM's `former` mark covers (the backtest's reading of it);
- what the truth's leavers looked like at T: days since their last ticket and purchase,
  bad ratings, tickets, against the stayers (medians);
- the AUC of every single signal's measurement (and of the BG/NBD probability alive, fitted
  at T on the purchases known then) for staying, against the app's outcome and the truth.

"Truth, gone by T + h" is every judged customer whose truth.json churn date is at or before
T + h (the ones already gone at T too: the app cannot see that they left); "truth, left in
the horizon" only those still there at T (bench/backtest_table.py's figure).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backtest_table import strip_fields  # bench/, beside this script

from integrations.files.crm import former_emails, load_crm
from integrations.files.dataset import load
from plugin.core.backtest import active_at, auc, outcome
from plugin.core.domain import normal_email
from plugin.core.lifetime import fit_account, forecast, summaries_of
from plugin.core.model import score
from plugin.core.norms import account_norms
from plugin.core.settings import COST_SIGNALS, Settings
from plugin.core.spend import with_contacts
from plugin.demo.generator import generate

NOW = datetime(2025, 6, 1, tzinfo=UTC)
HORIZON = timedelta(days=90)
AT = NOW - HORIZON
DAY = 86_400.0


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def diagnose(folder: Path, source: str, strip: bool) -> dict[str, object]:
    truth = json.loads((folder / "truth.json").read_text())["customers"]
    settings = Settings.from_dict({"spend_source": source})
    dataset = load(folder)
    crm = load_crm(folder, source)
    emails = former_emails(folder) if source == "sell" else frozenset()
    former = {u for u, p in dataset.profiles.items() if normal_email(p.email) in emails}
    histories = []
    for h in dataset.histories():
        if strip:
            h = strip_fields(h)
        histories.append(with_contacts(h, crm, settings))
    norms = account_norms(histories, settings, AT)
    summaries, span = summaries_of(histories, AT, settings.currency,
                                   dict(settings.exchange_rates))
    model, verdict = fit_account(list(summaries.values()), span, settings.currency, AT)
    judged = [h for h in histories if active_at(h, AT)]
    start, end = _stamp(AT), _stamp(AT + HORIZON)
    rows = []
    for h in judged:
        t = truth[str(h.profile.id)]
        churned = t["churned_at"] or t["churned_later_at"]
        gone_by_end = churned is not None and churned <= end
        gone_at_t = churned is not None and churned <= start
        seen = outcome(h, AT, HORIZON, settings, h.profile.id in former)
        value = score(h, settings, AT, None, norms)
        m = value.measures
        tickets_before = [x.created_at for x in h.tickets if x.created_at <= AT]
        purchases_before = [p.closed_at for p in h.purchases
                            if p.won and p.closed_at is not None and p.closed_at <= AT]
        known_days = max((AT - h.profile.created_at).total_seconds() / DAY, 1.0)
        summary = summaries.get(h.profile.id)
        alive = None
        if model is not None and summary is not None:
            alive = forecast(model, summary).active_probability
        rows.append({
            "id": h.profile.id, "value": value.value, "proxy_leaving": seen.leaving,
            "former": h.profile.id in former, "silent": seen.tickets == 0 and seen.purchases == 0,
            "gone_by_end": gone_by_end, "gone_at_t": gone_at_t,
            "days_since_ticket": (AT - max(tickets_before)).total_seconds() / DAY
            if tickets_before else None,
            "days_since_purchase": (AT - max(purchases_before)).total_seconds() / DAY
            if purchases_before else None,
            "tickets_per_year": len(tickets_before) / known_days * 365,
            "purchases_per_year": len(purchases_before) / known_days * 365,
            "bad": m.bad, "tickets": m.tickets, "p_alive": alive,
            "signals": {s.signal: s.measure for s in value.benefits + value.costs
                        if s.measured}})
    alive_silent = sum(1 for r in rows if r["silent"] and not r["gone_by_end"])
    alive_end = sum(1 for r in rows if not r["gone_by_end"])
    there = [r for r in rows if not r["gone_at_t"]]

    def aucs(key):
        out = {}
        for name, group, label in (("proxy", rows, "proxy_leaving"),
                                   ("truth_gone_by_end", rows, "gone_by_end"),
                                   ("truth_left_in_horizon", there, "gone_by_end")):
            pairs = [(key(r), not r[label]) for r in group if key(r) is not None]
            figure, stay, leave = auc([p[0] for p in pairs], [p[1] for p in pairs])
            out[name] = None if figure is None else round(figure, 3)
            out[name + "_n"] = f"{stay} stay / {leave} leave"
        return out

    signal_names = sorted({n for r in rows for n in r["signals"]})
    single = {name: aucs(lambda r, n=name: r["signals"].get(n)) for name in signal_names}
    # A cost signal predicts staying when it is *low*: read it reversed.
    for name in signal_names:
        if name in COST_SIGNALS:
            single[name] = aucs(lambda r, n=name: None if n not in r["signals"]
                                else -r["signals"][n])
    looks = {}
    for label, group in (("leavers", [r for r in there if r["gone_by_end"]]),
                         ("stayers", [r for r in there if not r["gone_by_end"]]),
                         ("gone_before_t", [r for r in rows if r["gone_at_t"]])):
        looks[label] = {
            "customers": len(group),
            "median_days_since_ticket": _median([r["days_since_ticket"] for r in group
                                                 if r["days_since_ticket"] is not None]),
            "median_days_since_purchase": _median([r["days_since_purchase"] for r in group
                                                   if r["days_since_purchase"] is not None]),
            "with_a_bad_rating": sum(1 for r in group if r["bad"]),
            "median_tickets": _median([r["tickets"] for r in group]),
            "median_tickets_per_year": _median([r["tickets_per_year"] for r in group]),
            "median_purchases_per_year": _median([r["purchases_per_year"] for r in group])}
    return {
        "judged": len(rows),
        "proxy_leaving": sum(r["proxy_leaving"] for r in rows),
        "former_marked": sum(r["former"] for r in rows),
        "truth_gone_by_end": sum(r["gone_by_end"] for r in rows),
        "truth_gone_at_t": sum(r["gone_at_t"] for r in rows),
        "alive_at_end": alive_end, "alive_at_end_but_silent": alive_silent,
        "median_tickets_per_year": _median([r["tickets_per_year"] for r in rows]),
        "median_purchases_per_year": _median([r["purchases_per_year"] for r in rows]),
        "share_tickets_per_year_below_1": round(
            sum(r["tickets_per_year"] < 1 for r in rows) / max(len(rows), 1), 3),
        "lifetime_gate": verdict.reason or "fitted",
        "looks_at_t": looks,
        "auc_staying": {"value": aucs(lambda r: r["value"]),
                        "p_alive": aucs(lambda r: r["p_alive"]),
                        "minus_days_since_ticket": aucs(
                            lambda r: None if r["days_since_ticket"] is None
                            else -r["days_since_ticket"]),
                        "minus_days_since_purchase": aucs(
                            lambda r: None if r["days_since_purchase"] is None
                            else -r["days_since_purchase"]),
                        "signals": single}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.data or Path(scratch)
        if not (folder / "truth.json").exists():
            generate(folder, args.customers, seed=7, now=NOW, lifetimes=True)
        out = {name: diagnose(folder, source, strip)
               for name, source, strip in (("sell", "sell", False),
                                           ("zendesk_only", "fields", True))}
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
