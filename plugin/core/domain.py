"""The domain: one customer's history as plain, immutable values.

Adapters (the dataset reader, the Zendesk and CRM clients) build these; the model and the
suggestion engine read them. Nothing here knows where the data came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

GOOD_RATING_MIN = 4
"""On the 1–5 survey scale, 4 and 5 count as good (the top-two-box convention of CSAT)."""

BAD_RATING_MAX = 2
"""On the 1–5 survey scale, 1 and 2 count as bad."""

EMPTY_FIELDS: Mapping[str, object] = MappingProxyType({})

CRM_NAMES: Mapping[str, str] = MappingProxyType({"sell": "Zendesk Sell", "bitrix24": "Bitrix24"})
"""The CRMs a spend source may name, as people know them."""


def normal_email(value: object) -> str:
    """An email as customers are matched by it: trimmed, lower case ("" for none)."""
    return value.strip().lower() if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class Organization:
    id: int
    name: str = ""
    tags: tuple[str, ...] = ()
    fields: Mapping[str, object] = field(default_factory=lambda: EMPTY_FIELDS)


@dataclass(frozen=True, slots=True)
class Profile:
    """Who the customer is: Zendesk's user, with its organization."""

    id: int
    name: str
    email: str | None
    created_at: datetime
    tags: tuple[str, ...] = ()
    organization: Organization | None = None
    fields: Mapping[str, object] = field(default_factory=lambda: EMPTY_FIELDS)

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""

    @property
    def all_tags(self) -> tuple[str, ...]:
        """The user's tags, then the organization's (segments match on either)."""
        org_tags = self.organization.tags if self.organization else ()
        return self.tags + org_tags


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """One rating of one ticket, on either of Zendesk's scales.

    `scale` is 2 for the classic good/bad rating and 5 for the 1–5 CSAT survey; `score` is the
    rating itself (1 for good and 0 for bad on the 2-point scale, 1..5 on the other).
    """

    scale: int
    score: int
    rated_at: datetime
    comment: str = ""

    def __post_init__(self) -> None:
        if self.scale == 2:
            if self.score not in (0, 1):
                raise ValueError(f"a good/bad rating must be 0 or 1, not {self.score!r}")
        elif self.scale == 5:
            if not 1 <= self.score <= 5:
                raise ValueError(f"a 1–5 rating must be between 1 and 5, not {self.score!r}")
        else:
            raise ValueError(f"unknown rating scale {self.scale!r}")

    @property
    def share(self) -> float:
        """The rating as a success for the satisfaction estimate: 1 good, 0 bad, 0.5 neutral.

        On the 1–5 scale this is the top-two-box reading of CSAT (4 and 5 are satisfied, 1 and
        2 dissatisfied), so every good rating counts as a full success and adding one can only
        raise the estimate; the average score is reported as evidence beside it.
        """
        if self.is_good:
            return 1.0
        if self.is_bad:
            return 0.0
        return 0.5

    @property
    def is_good(self) -> bool:
        return self.score == 1 if self.scale == 2 else self.score >= GOOD_RATING_MIN

    @property
    def is_bad(self) -> bool:
        return self.score == 0 if self.scale == 2 else self.score <= BAD_RATING_MAX

    @property
    def label(self) -> str:
        if self.scale == 2:
            return "good" if self.score else "bad"
        return f"{self.score}/5"


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the model needs of one ticket and its metric set."""

    id: int
    created_at: datetime
    status: str = "open"
    priority: str = "normal"
    channel: str = "unknown"
    subject: str = ""
    tags: tuple[str, ...] = ()
    solved_at: datetime | None = None
    satisfaction: Satisfaction | None = None
    first_reply_minutes: float | None = None
    resolution_minutes: float | None = None
    replies: int | None = None
    reopens: int = 0


@dataclass(frozen=True, slots=True)
class Purchase:
    """One deal: money the customer spent (or nearly spent) with the business."""

    amount: float
    currency: str
    won: bool
    closed_at: datetime | None = None
    id: str = ""


@dataclass(frozen=True, slots=True)
class CrmContact:
    """One CRM contact that matched a customer, with the deals that count as purchases (won or
    lost; deals still open are neither and are left out)."""

    id: str
    purchases: tuple[Purchase, ...] = ()


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    profile: Profile
    tickets: tuple[Ticket, ...] = ()
    purchases: tuple[Purchase, ...] = ()
    notices: tuple[str, ...] = ()
    """Facts about the data itself the agent should see ("2 CRM contacts match")."""
    crm_degraded: bool = False
    """The spend source is a CRM that could not be asked, and no synced deals stood in: the
    value lacks the customer's CRM spend (the tagger waits rather than act on it)."""
    crm_contact: CrmContact | None = None
    """The one CRM contact that matched the customer (their deals are in `purchases`): with
    it, purchases are measured even when there are none (a recorded zero)."""
