"""The customer-value model: value = total benefits − total costs.

Both source articles state customer value as CV = B − C (Zendesk, "What is customer value?",
2024; Bitrix24, "What Is Customer Value in Marketing?", 2024). Each signal is measured from the
customer's history (`plugin.core.measures`), read against what is typical in the account
(`plugin.core.signals`), and weighed by the admin:

    benefit points_s = w_s · beyond_typical(measure_s) · W / W_measured
    cost points_s    = w_s · beyond_typical(measure_s)

where W is the benefits' total weight and W_measured the weight of the benefits measured for
this customer: a signal with no data earns nothing and its weight leaves the scale, so a
customer without a CRM contact or a spend field can reach the top as well as one with (values
stay comparable). Costs read "beyond the account's typical" are 0 when unknown already. With
the default weights each group adds up to 100, so a value reads on −100..+100, and the
account's typical customer sits near 0.

A customer with little evidence (fewer than `little_data_tickets` tickets and deals, and no
known spend) is pulled toward 0 in proportion: `value = min(1, evidence / threshold) · (B − C)`.

`score` is pure: the clock is its `now` argument and it reads nothing but its inputs;
`score_series` gives the value at several moments from one sweep of the history, each from
only what was known then.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from plugin.core.domain import CustomerHistory
from plugin.core.formulas import percentile
from plugin.core.lifetime import LifetimeModel, forecast, summarise
from plugin.core.measures import Measures, measure_series
from plugin.core.overrides import TierOverride
from plugin.core.phrases import Phrase
from plugin.core.settings import BENEFIT_SIGNALS, COST_SIGNALS, SIGNALS, Settings
from plugin.core.signals import (
    DEFAULT_NORMS,
    Money,
    Norms,
    Reading,
    Wording,
    beyond_typical,
    money_view,
    neutral,
    phrased,
    read_signals,
    worded,
)

DRIVERS = 3


@dataclass(frozen=True, slots=True)
class SignalScore:
    """One signal's contribution: its 0..1 measurement, points and the evidence behind them.

    `measured` says whether the customer has data for it (`reason` why not); `max_points` is
    the signal's share of its group once the unmeasured weight has left the scale."""

    signal: str
    kind: str
    label: str
    measure: float
    points: float
    max_points: float
    wording: Wording = field(compare=False, repr=False)
    measured: bool = True
    reason: str | None = None

    @property
    def evidence(self) -> str:
        """The sentence behind the points (or why the signal is not measured), in the model's
        English, worded when it is read."""
        return worded(self.wording)

    @property
    def phrase(self) -> Phrase | None:
        """The same sentence as data, for an edge that words it in another language."""
        return phrased(self.wording)


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Tier boundaries on the value scale: high at or above `high`, low at or below `low`."""

    high: float
    low: float

    def tier(self, value: float) -> str:
        if value >= self.high:
            return "high"
        if value <= self.low:
            return "low"
        return "medium"


@dataclass(frozen=True, slots=True)
class Spend:
    """What the purchase signals read, for display: where spend came from and the deals."""

    source: str
    """`fields`, or the CRM of the settings' `spend_source` (`sell`, `bitrix24`)."""
    lifetime: float
    purchases: int
    lost: int
    per_year: float
    last_purchase_days: float | None
    average_deal: float
    skipped_currencies: tuple[tuple[str, int], ...] = ()
    """Won deals left out for want of an exchange rate, by currency."""


@dataclass(frozen=True, slots=True)
class CustomerValue:
    user_id: int
    name: str
    value: float
    tier: str
    benefits: tuple[SignalScore, ...]
    costs: tuple[SignalScore, ...]
    little_data: bool
    segment: str | None
    settings_version: int
    computed_at: datetime
    currency: str
    lifetime_spend: float
    cost_to_serve: float
    notices: tuple[str, ...]
    measures: Measures
    spend: Spend | None = None
    crm_degraded: bool = False
    """Computed without the CRM spend the settings ask for (see `CustomerHistory`)."""
    cutoffs: Cutoffs | None = None
    """The tier cutoffs `tier` came from (the tagger's hysteresis reads the same ones)."""
    coverage: float = 1.0
    """The share of the model's weight measured for this customer."""
    money: Money | None = None
    evidence: float = 0.0
    """Tickets and decided deals (a known spend counts as the threshold): below
    `little_data_tickets` the value is little data, pulled toward 0 in proportion."""
    override: TierOverride | None = None
    """A tier a person pinned; `tier` is then the pinned tier and `model_tier` the model's."""
    model_tier: str = ""

    def pinned(self, override: TierOverride | None) -> CustomerValue:
        """This value with `override`'s tier (itself when there is none)."""
        if override is None:
            return self
        return replace(self, tier=override.tier, override=override,
                       model_tier=self.model_tier or self.tier)

    @property
    def total_benefits(self) -> float:
        return round(sum(s.points for s in self.benefits), 1)

    @property
    def total_costs(self) -> float:
        return round(sum(s.points for s in self.costs), 1)

    @property
    def top_drivers(self) -> tuple[SignalScore, ...]:
        """The signals that move the value most, largest first."""
        ranked = sorted((s for s in self.benefits + self.costs if s.points > 0),
                        key=lambda s: (-s.points, s.signal))
        return tuple(ranked[:DRIVERS])


def absolute_cutoffs(settings: Settings) -> Cutoffs:
    if settings.tiers.mode != "absolute":
        raise ValueError("percentile tiers need the account's values: use percentile_cutoffs")
    return Cutoffs(high=settings.tiers.high, low=settings.tiers.low)


def percentile_cutoffs(values: Sequence[float], settings: Settings) -> Cutoffs:
    """Cutoffs at the configured percentiles of the account's own customers' values."""
    if settings.tiers.mode != "percentile":
        return absolute_cutoffs(settings)
    if not values:
        return Cutoffs(high=math.inf, low=-math.inf)
    ordered = sorted(values)
    return Cutoffs(high=percentile(ordered, settings.tiers.high),
                   low=percentile(ordered, settings.tiers.low))


def account_cutoffs(histories: Iterable[CustomerHistory], settings: Settings,
                    now: datetime, norms: Norms = DEFAULT_NORMS) -> Cutoffs:
    """The account's tier cutoffs: the absolute ones, or percentiles of every customer's value
    (the histories are only read in percentile mode). People whose spend is their
    organization's count once per organization (their mean value), so a large organization
    does not stand for many customers."""
    if settings.tiers.mode == "absolute":
        return absolute_cutoffs(settings)
    untiered = Cutoffs(0, 0)
    alone: list[float] = []
    by_organization: dict[int, list[float]] = {}
    for history in histories:
        result = score(history, settings, now, untiered, norms)
        organization = history.profile.organization
        if result.money and result.money.basis == "organization field" and organization:
            by_organization.setdefault(organization.id, []).append(result.value)
        else:
            alone.append(result.value)
    values = alone + [sum(group) / len(group) for group in by_organization.values()]
    return percentile_cutoffs(values, settings)


def score(history: CustomerHistory, settings: Settings, now: datetime,
          cutoffs: Cutoffs | None = None, norms: Norms = DEFAULT_NORMS,
          lifetime: LifetimeModel | None = None) -> CustomerValue:
    """The customer's value as of `now`. Percentile tiers need `cutoffs` from the account;
    `norms` are the account's (`plugin.core.norms`), the defaults before it has data;
    `lifetime` the account's fitted lifetime model, read when the money view looks forward."""
    return score_series(history, settings, [now], cutoffs, norms, lifetime)[0]


def score_series(history: CustomerHistory, settings: Settings, moments: Sequence[datetime],
                 cutoffs: Cutoffs | None = None, norms: Norms = DEFAULT_NORMS,
                 lifetime: LifetimeModel | None = None) -> list[CustomerValue]:
    """The customer's value at each moment (ascending), from one sweep of the history: the
    value as it would have been computed then, from only what was known then."""
    if cutoffs is None:
        cutoffs = absolute_cutoffs(settings)
    chosen, segment = settings.weights_for(history.profile.all_tags)
    weights = {name: float(chosen[name]) for name in SIGNALS}
    typical = {name: neutral(name, norms) for name in SIGNALS}
    series = measure_series(history, moments, half_life_days=settings.half_life_days,
                            typical=norms.typical, currency=settings.currency,
                            rates=dict(settings.exchange_rates))
    if settings.money_outlook != "forward":
        lifetime = None
    return [_value(history, settings, m, weights, typical, segment, cutoffs, norms, lifetime)
            for m in series]


def forward_money(history: CustomerHistory, m: Measures, settings: Settings, past: Money,
                  lifetime: LifetimeModel | None) -> Money:
    """The money view looking forward: the next 12 months' expected spend (BG/NBD purchases ×
    Gamma-Gamma amount) − the expected cost of serving them (`cost_per_ticket` × the
    customer's recent ticket rate × the chance they are still active). The past view stays
    for a customer the model cannot forecast (no purchase known by then, no spend model)."""
    if lifetime is None or lifetime.spend is None or lifetime.currency != settings.currency:
        return past
    summary = summarise(history, m.at, settings.currency, dict(settings.exchange_rates))
    if summary is None:
        return past
    outlook = forecast(lifetime, summary)
    if outlook.expected_spend is None:
        return past
    tickets_per_year = m.burden * math.log(2) / settings.half_life_days * 365.0
    cost = round(settings.cost_per_ticket * tickets_per_year * outlook.active_probability, 2)
    return Money(spend=outlook.expected_spend, cost_to_serve=cost,
                 basis="expected next 12 months", field=outlook.basis)


def _value(history: CustomerHistory, settings: Settings, m: Measures,
           weights: Mapping[str, float], typical: Mapping[str, float], segment: str | None,
           cutoffs: Cutoffs, norms: Norms, lifetime: LifetimeModel | None = None
           ) -> CustomerValue:
    profile = history.profile
    notices = list(history.notices)
    money = money_view(history, m, settings, notices)
    if lifetime is not None:
        money = forward_money(history, m, settings, money, lifetime)
    readings = read_signals(history, m, settings, norms, money)
    threshold = settings.little_data_tickets
    evidence = float(m.tickets + m.won + m.lost)
    if money.spend is not None:
        evidence = max(evidence, float(threshold))  # a known spend (a zero too) is data enough
    little = evidence < threshold
    pull = evidence / threshold if little else 1.0
    benefits = _group(BENEFIT_SIGNALS, "benefit", readings, weights, typical, pull)
    costs = _group(COST_SIGNALS, "cost", readings, weights, typical, pull)
    value = round(sum(s.points for s in benefits) - sum(s.points for s in costs), 1)
    total = sum(weights.values())
    measured = sum(weights[name] for name in SIGNALS if readings[name].measured)
    return CustomerValue(
        user_id=profile.id, name=profile.name, value=value, tier=cutoffs.tier(value),
        benefits=benefits, costs=costs, little_data=little, segment=segment,
        settings_version=settings.version, computed_at=m.at, currency=settings.currency,
        lifetime_spend=round(money.spend or 0.0, 2), cost_to_serve=money.cost_to_serve,
        notices=tuple(notices), measures=m, spend=_spend(m, money, settings),
        crm_degraded=history.crm_degraded, cutoffs=cutoffs,
        coverage=round(measured / total, 3) if total else 0.0, money=money,
        evidence=evidence)


def _group(names: Mapping[str, str], kind: str, readings: Mapping[str, Reading],
           weights: Mapping[str, float], typical: Mapping[str, float], pull: float
           ) -> tuple[SignalScore, ...]:
    """One group's signals as points: beyond the account's typical, pulled toward 0 for little
    data; benefits renormalised over their measured weight. Costs are not scaled up: a cost at
    the account's typical already costs nothing, so an unknown one is left at that, and a
    cost never weighs more because another was not known."""
    total = sum(weights[name] for name in names)
    measured = sum(weights[name] for name in names if readings[name].measured)
    scores = []
    for name, label in names.items():
        reading, weight = readings[name], weights[name]
        if not reading.measured or not measured:
            share = 0.0
        elif kind == "benefit":
            share = total * (weight / measured)  # in this order: no overflow for tiny weights
        else:
            share = weight
        earned = beyond_typical(reading.measure, typical[name]) if reading.measured else 0.0
        scores.append(SignalScore(
            signal=name, kind=kind, label=label, measure=_steady(reading.measure, 4),
            points=_steady(share * earned * pull, 1), max_points=round(share, 1),
            wording=reading.wording, measured=reading.measured, reason=reading.reason))
    return tuple(scores)


def _steady(number: float, digits: int) -> float:
    """`number` rounded to `digits`, after settling it to 9 places first: the same facts read
    one moment at a time or as a series (prefix sums) can differ in the last bit, and on a
    half-way point (1.25 against 1.2499999999999998) that bit would pick the other tenth."""
    return round(round(number, 9), digits)


def _spend(m: Measures, money: Money, settings: Settings) -> Spend:
    return Spend(
        source=settings.spend_source, lifetime=round(money.spend or 0.0, 2), purchases=m.won,
        lost=m.lost,
        per_year=round(m.decayed_won * math.log(2) / settings.half_life_days * 365.0, 2),
        last_purchase_days=None if m.last_won_days is None else round(m.last_won_days, 1),
        average_deal=round(m.average_deal, 2),
        skipped_currencies=tuple(sorted(m.skipped_currencies.items())))
