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


RATING_CATEGORIES = ("bad", "neutral", "good")
"""How Zendesk classes a rating on any of its scales (a survey answer's `rating_category`)."""

SURVEY_SCALES = (2, 3, 5)
"""The points of Zendesk's customizable CSAT rating scales (emoji, numeric or custom text)."""


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """One rating of one ticket, on its own scale, read as good, neutral or bad.

    `scale` is the number of points: 2 for the classic good/bad rating (`score` 0 bad, 1 good)
    and for a 2-point survey (stored the same way, since it means the same), 3 or 5 for a CSAT
    survey (`score` 1..scale). `category` is Zendesk's own reading of the answer
    (`rating_category`: good, neutral or bad); without it (older records, the classic rating)
    it follows from the score: the top of a 3-point scale is good and its middle neutral, and
    on the 5-point scale 4 and 5 are good, 1 and 2 bad (the top-two-box convention of CSAT).
    """

    scale: int
    score: int
    rated_at: datetime
    comment: str = ""
    category: str = ""

    def __post_init__(self) -> None:
        if self.scale == 2:
            if self.score not in (0, 1):
                raise ValueError(f"a good/bad rating must be 0 or 1, not {self.score!r}")
        elif self.scale in SURVEY_SCALES:
            if not 1 <= self.score <= self.scale:
                raise ValueError(f"a rating on a {self.scale}-point scale must be between 1 "
                                 f"and {self.scale}, not {self.score!r}")
        else:
            raise ValueError(f"unknown rating scale {self.scale!r}")
        if self.category and self.category not in RATING_CATEGORIES:
            raise ValueError(f"unknown rating category {self.category!r} "
                             "(expected good, neutral or bad)")

    @property
    def reading(self) -> str:
        """Good, neutral or bad: Zendesk's category when it gave one, else the score's."""
        if self.category:
            return self.category
        if self.scale == 2:
            return "good" if self.score else "bad"
        if self.scale == 3:
            return RATING_CATEGORIES[self.score - 1]
        if self.score >= GOOD_RATING_MIN:
            return "good"
        return "bad" if self.score <= BAD_RATING_MAX else "neutral"

    @property
    def share(self) -> float:
        """The rating as a success for the satisfaction estimate: 1 good, 0 bad, 0.5 neutral.

        Every good rating counts as a full success whatever its scale, so adding one can only
        raise the estimate; the average score of 5-point surveys is reported beside it.
        """
        return {"good": 1.0, "bad": 0.0}.get(self.reading, 0.5)

    @property
    def is_good(self) -> bool:
        return self.reading == "good"

    @property
    def is_bad(self) -> bool:
        return self.reading == "bad"

    @property
    def label(self) -> str:
        if self.scale == 2:
            return self.reading
        return f"{self.score}/{self.scale}"


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
