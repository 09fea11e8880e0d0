"""Evidence as data: each sentence the model says about a signal ("3 in the last 30 days, 33
in all", "no contact in Zendesk Sell") is a `Phrase`, a message key and the figures it is
worded from, so an edge can say it in its reader's language (the sidebar does, from its
message tables, with Babel's formatting). `str(phrase)` is the model's own English wording,
the one the JSON contract carries as `evidence` and `reason`.

The English helpers (`count`, `describe_days`, `describe_minutes`, `money_formatter`) live here
because the English wording is made from them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

DAYS_PER_MONTH = 30.44


@dataclass(frozen=True, slots=True)
class Phrase:
    """One evidence sentence: `key` names it (one entry of each language's message table),
    `figures` are the numbers, amounts, durations and names it is worded from."""

    key: str
    figures: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        return ENGLISH[self.key](dict(self.figures))

    def get(self, name: str, default: Any = None) -> Any:
        return dict(self.figures).get(name, default)


def phrase(key: str, **figures: Any) -> Phrase:
    if key not in ENGLISH:
        raise KeyError(f"no wording for the phrase {key!r}")
    return Phrase(key, tuple(figures.items()))


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def money_formatter(currency: str) -> Callable[[float], str]:
    def money(amount: float) -> str:
        return f"{currency} {amount:,.0f}"
    return money


def describe_days(days: float) -> str:
    """A duration for people: "2 years 3 months", "5 months", "12 days"."""
    whole = int(days)
    if whole < 1:
        return "less than a day"
    if whole < 60:
        return count(whole, "day")
    months = int(days / DAYS_PER_MONTH)
    years, months = divmod(months, 12)
    if not years:
        return count(months, "month")
    return count(years, "year") + (f" {count(months, 'month')}" if months else "")


def describe_minutes(minutes: float) -> str:
    """A wait for people: "45 min", "3 h 20 min", "2.5 days"."""
    if minutes < 60:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        hours, rest = divmod(int(round(minutes)), 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{minutes / 1440:.1f} days"


def _spend(f: Mapping[str, Any]) -> str:
    fmt = money_formatter(f["currency"])
    basis = f["basis"]
    if basis == "organization field":
        whose = f"account spend (organization field {f['field']})"
    elif basis == "user field":
        whose = f"spent (user field {f['field']})"
    elif basis == "expected next 12 months":
        whose = "expected in the next 12 months"
    else:
        whose = f"over {f['field']}"
    return f"{fmt(f['amount'])} {whose} − {fmt(f['cost'])} to serve"


def _ratings(f: Mapping[str, Any]) -> str:
    parts = [f"{f['good']} of {count(f['ratings'], 'rating')} good"]
    if f.get("surveys"):
        parts.append(f"average {f['survey_average']:.1f}/5 over {count(f['surveys'], 'survey')}")
    return "; ".join(parts) + f" (recent ones weigh most: {f['estimate']:.0%})"


def _recency(f: Mapping[str, Any]) -> str:
    text = f"last purchase {describe_days(f['days'])} ago"
    if f.get("gap_days") is not None:
        text += f"; buys about every {describe_days(f['gap_days'])}"
        if f.get("overdue_days", 0) >= 1:
            text += f", {describe_days(f['overdue_days'])} overdue"
    return text


def _tenure(f: Mapping[str, Any]) -> str:
    text = f"customer for {describe_days(f['days'])}"
    if f.get("silent_days") is not None:
        text += f"; nothing for {describe_days(f['silent_days'])}"
    return text


def _quiet(f: Mapping[str, Any]) -> str:
    text = (f"last ticket or deal {describe_days(f['days'])} ago; in touch about every "
            f"{describe_days(f['gap_days'])}")
    if f.get("overdue_days", 0) >= 1:
        text += f", {describe_days(f['overdue_days'])} overdue"
    return text


def _typical(f: Mapping[str, Any]) -> str:
    noun = {"first_reply_wait": "first replies", "resolution_wait": "resolutions",
            "back_and_forth": "replies per ticket"}[f["signal"]]
    baseline = (f"{f['typical_replies']:g}" if f["signal"] == "back_and_forth"
                else describe_minutes(f["typical_minutes"]))
    return f"{noun} {f['ratio']:.1f}× the account's typical ({baseline})"


ENGLISH: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "purchases_a_year": lambda f: f"about {f['per_year']:.1f} purchases a year lately",
    "no_won_deals": lambda f: "no won deals",
    "won_lost": lambda f: f"{f['won']} won, {f['lost']} lost",
    "no_decided_deals": lambda f: "no decided deals",
    "average_deal": lambda f: f"{money_formatter(f['currency'])(f['amount'])} on average",
    "no_deals_to_average": lambda f: "no won deals to average",
    "purchases_from_field": lambda f: "purchases are not recorded: spend comes from a field",
    "crm_not_asked": lambda f: f"{f['crm']} could not be asked",
    "no_crm_contact": lambda f: f"no contact in {f['crm']}",
    "no_spend_field": lambda f: "no spend field set for them or their organization",
    "spend": _spend,
    "last_purchase": _recency,
    "tenure": _tenure,
    "gone_quiet": _quiet,
    "no_ratings_collected": lambda f: "this account collects no ratings",
    "never_asked": lambda f: "no tickets yet, so never asked for a rating",
    "no_ratings_yet": lambda f: ("no ratings yet (counted as the account's typical, "
                                 f"{f['estimate']:.0%} good)"),
    "ratings": _ratings,
    "positive_comments": lambda f: count(f["n"], "positive comment"),
    "no_positive_comments": lambda f: "no positive comments yet",
    "tickets": lambda f: f"{f['recent']} in the last {f['days']} days, {f['total']} in all",
    "no_tickets": lambda f: "no tickets",
    "no_first_replies": lambda f: "no first replies recorded",
    "no_resolutions": lambda f: "no resolutions recorded",
    "no_replies": lambda f: "no replies per ticket recorded",
    "against_typical": _typical,
    "no_tickets_yet": lambda f: "no tickets yet",
    "reopened": lambda f: (f"{count(f['tickets'], 'ticket')} reopened "
                           f"({count(f['reopens'], 'reopen')})"),
    "no_reopened": lambda f: "no reopened tickets",
    "escalations": lambda f: count(f["n"], "urgent or high priority ticket"),
    "no_escalations": lambda f: "no urgent or high priority tickets",
    "bad_ratings": lambda f: count(f["n"], "bad rating"),
    "no_bad_ratings": lambda f: "no bad ratings",
}
"""The model's English for each phrase."""
