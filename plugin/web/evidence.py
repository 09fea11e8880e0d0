"""The model's evidence in the agent's words: each `Phrase` (a key and its figures, see
`plugin.core.phrases`) worded from the message tables (`ev_<key>` entries), with Babel's
numbers, amounts, durations, percentages and plurals through `plugin.web.words.Words`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from plugin.core.phrases import Phrase
from plugin.web.words import Words


def evidence(found: Phrase | None, w: Words) -> str:
    """The model's evidence sentence (or its reason for not measuring a signal) in the agent's
    words, from the phrase's figures; "" for a sentence the model gave as plain text."""
    if found is None:
        return ""
    f = dict(found.figures)
    key = found.key
    if key in EVIDENCE:
        return EVIDENCE[key](f, w)
    return w("ev_" + key, **{name: value for name, value in f.items() if isinstance(value, str)})


def _spend_evidence(f: Mapping[str, Any], w: Words) -> str:
    amount, cost = w.money(f["amount"], f["currency"]), w.money(f["cost"], f["currency"])
    basis = {"user field": "ev_spend_user", "organization field": "ev_spend_organization",
             "expected next 12 months": "ev_spend_expected"}.get(f["basis"])
    if basis is None:
        return w("ev_spend_deals", f["deals"], amount=amount, cost=cost)
    return w(basis, amount=amount, cost=cost)


def _recency_evidence(f: Mapping[str, Any], w: Words) -> str:
    text = w("ev_last_purchase", ago=w.since(f["days"]))
    if f.get("gap_days") is not None:
        text += w("ev_buys_every", gap=w.duration(f["gap_days"]))
        if f.get("overdue_days", 0) >= 1:
            text += w("ev_overdue", overdue=w.duration(f["overdue_days"]))
    return text


def _quiet_evidence(f: Mapping[str, Any], w: Words) -> str:
    text = w("ev_gone_quiet", ago=w.since(f["days"]), gap=w.duration(f["gap_days"]))
    if f.get("overdue_days", 0) >= 1:
        text += w("ev_overdue", overdue=w.duration(f["overdue_days"]))
    return text


def _ratings_evidence(f: Mapping[str, Any], w: Words) -> str:
    text = w("ev_ratings", f["ratings"], good=w.number(f["good"]))
    if f.get("surveys"):
        text += w("ev_surveys", f["surveys"], average=w.decimal(f["survey_average"]))
    return text + w("ev_recent_weigh", share=w.percent(f["estimate"]))


def _typical_evidence(f: Mapping[str, Any], w: Words) -> str:
    typical = (w.decimal(f["typical_replies"]) if f["signal"] == "back_and_forth"
               else w.wait(f["typical_minutes"]))
    return w("ev_typical_" + f["signal"], ratio=w.decimal(f["ratio"]) + "×", typical=typical)


EVIDENCE: Mapping[str, Callable[[Mapping[str, Any], Words], str]] = {
    "purchases_a_year": lambda f, w: w("ev_purchases_a_year", per_year=w.decimal(f["per_year"])),
    "won_lost": lambda f, w: w("ev_won_lost", won=w.number(f["won"]), lost=w.number(f["lost"])),
    "average_deal": lambda f, w: w("ev_average_deal", amount=w.money(f["amount"],
                                                                     f["currency"])),
    "spend": _spend_evidence,
    "last_purchase": _recency_evidence,
    "gone_quiet": _quiet_evidence,
    "tenure": lambda f, w: w("ev_tenure", tenure=w.duration(f["days"])) + (
        w("ev_silent", silent=w.duration(f["silent_days"]))
        if f.get("silent_days") is not None else ""),
    "no_ratings_yet": lambda f, w: w("ev_no_ratings_yet", share=w.percent(f["estimate"])),
    "ratings": _ratings_evidence,
    "positive_comments": lambda f, w: w("ev_positive_comments", f["n"]),
    "tickets": lambda f, w: w("ev_tickets", f["days"], recent=w.number(f["recent"]),
                              total=w.number(f["total"])),
    "against_typical": _typical_evidence,
    "reopened": lambda f, w: w("ev_reopened", f["tickets"],
                               reopens=w("ev_reopens", f["reopens"])),
    "escalations": lambda f, w: w("ev_escalations", f["n"]),
    "bad_ratings": lambda f, w: w("ev_bad_ratings", f["n"]),
}
"""How each phrase with figures is worded; a phrase without (or with only names, such as a
CRM's) is its message table entry as it stands."""
