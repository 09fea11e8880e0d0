"""Customer lifetimes for the generated account: the ground truth a backtest is judged by.

Each customer follows the generative story of BG/NBD (Fader, Hardie & Lee 2005): while active
they buy as a Poisson process of rate λ ~ Gamma(PURCHASE_SHAPE, rate PURCHASE_RATE_DAYS), and
after each purchase they drop out with probability p ~ Beta(DROPOUT_A, DROPOUT_B). Amounts of
one customer are Gamma(AMOUNT_SHAPE, ν), ν ~ Gamma(SPEND_SHAPE, SPEND_SCALE) across customers
(the Gamma-Gamma story of Fader, Hardie & Lee 2005 and Colombo & Jiang 1999).

Bad service makes leaving likelier: every ticket's experience has a badness (a bad rating 1,
a first reply slower than a day ½, a reopen ½, a resolution slower than three days ½), which
adds up with a half-life of BADNESS_HALF_LIFE_DAYS. Right after a ticket the customer leaves
with probability 1 − exp(−TICKET_HAZARD · badness of that ticket), and each purchase's dropout
probability rises to 1 − (1 − p)·exp(−PURCHASE_HAZARD · accumulated badness). After leaving
there are no new tickets and no purchases. Purchases are drawn past the account's present for
TRUTH_DAYS more (with no tickets there), so the truth knows each customer's future spend.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

from plugin.demo.files import iso

DAY = 86_400
PURCHASE_SHAPE, PURCHASE_RATE_DAYS = 0.9, 80.0  # mean rate 0.9/80 a day: about 4 a year
DROPOUT_A, DROPOUT_B = 1.0, 6.0  # mean dropout after a purchase 1/7
AMOUNT_SHAPE, SPEND_SHAPE, SPEND_SCALE = 4.0, 3.0, 1 / 150.0  # mean amount p·γ/(q−1) = 300
FIRST_PURCHASE_MAX_DAYS = 14
TICKET_HAZARD, PURCHASE_HAZARD = 0.15, 0.6
BADNESS_HALF_LIFE_DAYS = 180.0
SLOW_REPLY_MINUTES, SLOW_RESOLUTION_MINUTES = 24 * 60, 3 * 24 * 60
TRUTH_DAYS = 365
MAX_PURCHASES = 2_000


@dataclass(slots=True)
class Lifetime:
    """One customer's life, walked forward in time as their tickets are generated."""

    rng: Random
    created: int
    now: int
    rate: float
    dropout: float
    nu: float
    next_purchase: int
    badness: float = 0.0
    badness_at: int = 0
    churned_at: int | None = None
    purchases: list[tuple[int, float]] = field(default_factory=list)

    @classmethod
    def draw(cls, rng: Random, created: int, now: int) -> Lifetime:
        rate = rng.gammavariate(PURCHASE_SHAPE, 1.0 / PURCHASE_RATE_DAYS) / DAY
        life = cls(rng=rng, created=created, now=now, rate=max(rate, 1e-12),
                   dropout=rng.betavariate(DROPOUT_A, DROPOUT_B),
                   nu=rng.gammavariate(SPEND_SHAPE, SPEND_SCALE),
                   next_purchase=created + rng.randint(0, FIRST_PURCHASE_MAX_DAYS * DAY),
                   badness_at=created)
        return life

    @property
    def alive(self) -> bool:
        return self.churned_at is None

    def _decayed(self, at: int) -> float:
        return self.badness * 2.0 ** (-(at - self.badness_at) / DAY / BADNESS_HALF_LIFE_DAYS)

    def until(self, at: int) -> None:
        """Lives up to `at`: makes the purchases due before it, each followed by the chance
        of dropping out (higher after bad service)."""
        while self.alive and self.next_purchase < at and len(self.purchases) < MAX_PURCHASES:
            when = self.next_purchase
            self.purchases.append((when, self.rng.gammavariate(AMOUNT_SHAPE, 1.0 / self.nu)))
            stay = (1.0 - self.dropout) * math.exp(-PURCHASE_HAZARD * self._decayed(when))
            if self.rng.random() >= stay:
                self.churned_at = when
            self.next_purchase = when + max(1, int(self.rng.expovariate(self.rate)))

    def served(self, at: int, *, bad_rating: bool, reply_minutes: float | None,
               resolution_minutes: float | None, reopens: int) -> None:
        """One ticket's experience at `at` (its solve, or its creation if still open)."""
        self.until(at)
        if not self.alive:
            return
        bad = (1.0 if bad_rating else 0.0) + 0.5 * ((reply_minutes or 0) > SLOW_REPLY_MINUTES) \
            + 0.5 * (reopens > 0) + 0.5 * ((resolution_minutes or 0) > SLOW_RESOLUTION_MINUTES)
        self.badness = self._decayed(at) + bad
        self.badness_at = at
        if bad and self.rng.random() < 1.0 - math.exp(-TICKET_HAZARD * bad):
            self.churned_at = at

    def finish(self) -> None:
        """Lives to the end of the truth's window (purchases only: no tickets after now)."""
        self.until(self.now + 1)
        self.until(self.now + TRUTH_DAYS * DAY + 1)

    def truth(self) -> dict[str, object]:
        past = [(t, a) for t, a in self.purchases if t <= self.now]
        future = [a for t, a in self.purchases if t > self.now]
        left = self.churned_at is not None and self.churned_at <= self.now
        return {"churned_at": iso(self.churned_at) if left else None,
                "churned_later_at": iso(self.churned_at) if self.churned_at and not left
                else None,
                "alive_at_end": not left,
                "purchases_to_date": len(past),
                "spend_to_date": round(sum(a for _, a in past), 2),
                "future_purchases": len(future),
                "future_spend": round(sum(future), 2)}


def write_truth(out: Path, now: int, truths: dict[int, dict[str, object]]) -> None:
    """`truth.json`: what really happened to every customer (tests and benchmarks read it;
    the app never does)."""
    body = {"now": iso(now), "future_days": TRUTH_DAYS,
            "story": {"purchase_rate": {"shape": PURCHASE_SHAPE,
                                        "rate_days": PURCHASE_RATE_DAYS},
                      "dropout": {"a": DROPOUT_A, "b": DROPOUT_B},
                      "amount": {"p": AMOUNT_SHAPE, "q": SPEND_SHAPE,
                                 "gamma": 1.0 / SPEND_SCALE},
                      "ticket_hazard": TICKET_HAZARD, "purchase_hazard": PURCHASE_HAZARD},
            "customers": {str(k): v for k, v in truths.items()}}
    (out / "truth.json").write_text(json.dumps(body, separators=(",", ":")) + "\n",
                                    encoding="utf-8")
