"""Does the value predict? The backtest figures docs/model.md reports, on a generated account
with ground truth.

    .venv/bin/python bench/backtest_table.py [--customers 2000] [--old-model DIR]

Generates `generate --lifetimes --seed 7 --now 2025-06-01T00:00:00Z` (customers live BG/NBD
lifetimes and leave sooner after bad service, `plugin.demo.lifetimes`), then backtests at
T = now − 90 days over 90 days, with the default weights, for two ways of reading the
account: Zendesk Sell as the spend source, and Zendesk only (the spend fields stripped: a
spend field holds today's figure, so reading it at T would leak the spend of (T, now]). For
each: the current model, the current model with suggested weights (fitted on the 90 days
before T, `--suggest-weights`), and, with `--old-model DIR` (a checkout of an earlier model,
e.g. `git worktree add DIR ccdb8c8`), that model scored on each history cut to what was known
at T (it did not cut by itself), with the same outcomes. Beside the app's own figures, each
variant's AUC against truth.json two ways: `true_leaving_auc` (customers still there at T:
did they leave in the horizon?) and `true_gone_by_end_auc` (every customer judged: still there
at T + h?), and per reading the app's outcome's bound (`proxy_auc_of_knowing_the_truth`: a
score that knew who is still there at T + h) and how many stayers it counts as leaving
(`alive_but_silent_in_horizon`). Prints a JSON document.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from integrations.files.crm import former_emails, load_crm
from integrations.files.dataset import load
from plugin.core.backtest import Case, active_at, as_dict, auc, backtest, cases, outcome
from plugin.core.domain import CustomerHistory, normal_email
from plugin.core.norms import account_norms
from plugin.core.settings import Settings
from plugin.core.spend import with_contacts
from plugin.demo.generator import generate
from plugin.service_layer.backtest import data_end, run_backtest, suggest

NOW = datetime(2025, 6, 1, tzinfo=UTC)
HORIZON = timedelta(days=90)

OLD_SCORER = r"""
import json, sys
from dataclasses import replace
from datetime import datetime
from integrations.files.dataset import load
from integrations.files.crm import load_crm
from plugin.core.model import score
from plugin.core.settings import Settings
from plugin.core.spend import with_contacts

folder, source, at, strip = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3]), \
    sys.argv[4] == "strip"
settings = Settings.from_dict({"spend_source": source})
crm = load_crm(folder, source)
out = {}
for h in load(folder).histories():
    if strip:
        org = h.profile.organization
        h = replace(h, profile=replace(h.profile, fields={}, organization=None if org is None
                                       else replace(org, fields={})))
    h = with_contacts(h, crm, settings)
    tickets = []
    for t in h.tickets:
        if t.created_at > at:
            continue
        if t.satisfaction is not None and t.satisfaction.rated_at > at:
            t = replace(t, satisfaction=None)
        if t.solved_at is not None and t.solved_at > at:
            t = replace(t, solved_at=None, status="open", resolution_minutes=None,
                        replies=None, reopens=0)
        tickets.append(t)
    purchases = tuple(p for p in h.purchases if p.closed_at is not None and p.closed_at <= at)
    h = replace(h, tickets=tuple(tickets), purchases=purchases)
    out[h.profile.id] = score(h, settings, at).value
json.dump(out, sys.stdout)
"""


def strip_fields(h: CustomerHistory) -> CustomerHistory:
    org = h.profile.organization
    return replace(h, profile=replace(h.profile, fields={}, organization=None if org is None
                                      else replace(org, fields={})))


def _values(histories, settings, at, former, end) -> dict[int, float]:
    norms = account_norms(histories, settings, at)
    use = former if at + HORIZON >= end else frozenset()
    found, _ = cases(histories, settings, at, HORIZON, norms=norms, former=use)
    return {c.user_id: c.value for c in found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--old-model", type=Path, default=None)
    args = parser.parse_args()
    at = NOW - HORIZON
    rows = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        generate(folder, args.customers, seed=7, now=NOW, lifetimes=True)
        truth = json.loads((folder / "truth.json").read_text())["customers"]
        dataset = load(folder)
        emails = former_emails(folder)
        former = frozenset(u for u, p in dataset.profiles.items()
                           if normal_email(p.email) in emails)
        for name, source, strip in (("sell", "sell", False), ("zendesk_only", "fields", True)):
            settings = Settings.from_dict({"spend_source": source})
            crm = load_crm(folder, source)
            histories = [with_contacts(strip_fields(h) if strip else h, crm, settings)
                         for h in dataset.histories()]
            end = data_end(histories)
            use_former = former if source == "sell" else frozenset()

            def every(histories=histories):
                return iter(histories)
            now = run_backtest(every, settings, at, HORIZON, former=use_former, end=end)
            proposal = suggest(every, settings, at, HORIZON, former=use_former, end=end)
            tuned = run_backtest(every, replace(settings, weights=proposal.weights), at,
                                 HORIZON, former=use_former, end=end)
            row = {"current": as_dict(now), "suggestion": proposal.as_dict(),
                   "suggested_weights_backtest": as_dict(tuned)}
            values = {"current": _values(histories, settings, at, use_former, end),
                      "suggested_weights_backtest": _values(
                          histories, replace(settings, weights=proposal.weights), at,
                          use_former, end)}
            if args.old_model is not None:
                old = json.loads(subprocess.run(
                    [sys.executable, "-c", OLD_SCORER, str(folder), source, at.isoformat(),
                     "strip" if strip else "keep"], cwd=args.old_model, check=True,
                    capture_output=True, text=True,
                    env={"PYTHONPATH": str(args.old_model), "PATH": "/usr/bin:/bin"}).stdout)
                values["old_model"] = {int(k): v for k, v in old.items()}
                found = [Case(h.profile.id, old[str(h.profile.id)], None,
                              outcome(h, at, HORIZON, settings, h.profile.id in use_former
                                      and at + HORIZON >= end))
                         for h in histories if active_at(h, at)]
                known = sum(1 for h in histories
                            if active_at(h, at) or h.profile.created_at <= at)
                row["old_model"] = as_dict(backtest(found, known, at, HORIZON))
            # Ground truth beside the outcome: how many of the judged had really left by T+h.
            judged = [h for h in histories if active_at(h, at)]
            gone = sum(1 for h in judged if truth[str(h.profile.id)]["churned_at"]
                       and truth[str(h.profile.id)]["churned_at"] <= (at + HORIZON).isoformat()
                       .replace("+00:00", "Z"))
            row["truly_left_by_end_of_horizon"] = gone
            # The AUC against the truth: customers judged and still there at T, staying
            # through T + h (truth.json) against leaving in (T, T + h].
            stamp = (at + HORIZON).isoformat().replace("+00:00", "Z")
            start = at.isoformat().replace("+00:00", "Z")
            there = [h.profile.id for h in judged
                     if not truth[str(h.profile.id)]["churned_at"]
                     or truth[str(h.profile.id)]["churned_at"] > start]
            stays = [not (truth[str(u)]["churned_at"] and truth[str(u)]["churned_at"] <= stamp)
                     for u in there]
            row["true_leaving"] = {"customers": len(there),
                                   "left": sum(1 for s in stays if not s)}
            for variant, found_values in values.items():
                figure, stayed, left = auc([found_values[u] for u in there], stays)
                row[variant]["true_leaving_auc"] = None if figure is None else round(figure, 4)
            # The truth the app's outcome stands for: of every judged customer, who is still
            # there at T + h (truth.json), whether they left in the horizon or before T
            # without the app seeing it.
            judged_ids = [h.profile.id for h in judged]
            still = [not (truth[str(u)]["churned_at"] and truth[str(u)]["churned_at"] <= stamp)
                     for u in judged_ids]
            row["true_gone_by_end"] = {"customers": len(judged_ids),
                                       "gone": sum(1 for s in still if not s)}
            for variant, found_values in values.items():
                figure, _, _ = auc([found_values[u] for u in judged_ids], still)
                row[variant]["true_gone_by_end_auc"] = None if figure is None \
                    else round(figure, 4)
            # A bound on the app's outcome: the AUC for staying of a score that knew the truth
            # (1 if still there at T + h, else 0). Customers alive yet silent in the horizon
            # count as leaving there, and no score of what was known at T can tell them from
            # the ones who stay but for predicting who writes in.
            proxy = {c.user_id: not c.outcome.leaving for c in cases(
                histories, settings, at, HORIZON, former=use_former
                if at + HORIZON >= end else frozenset())[0]}
            figure, _, _ = auc([1.0 if s else 0.0 for s in still],
                               [proxy[u] for u in judged_ids])
            row["proxy_auc_of_knowing_the_truth"] = None if figure is None else round(figure, 4)
            row["alive_but_silent_in_horizon"] = sum(
                1 for u, s in zip(judged_ids, still, strict=True) if s and not proxy[u])
            rows[name] = row
    json.dump(rows, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
