"""A synthetic Zendesk account: a seeded, realistic dataset folder (docs/dataset.md) for demos,
tests and benchmarks of the customer-value model.

Records have the shapes of Zendesk's own objects, and the data has what the model feeds on:
long-tailed ticket volumes, per-customer habits (channel, topic, mood) and ticket lifecycles that
agree with the clock. Records are streamed, so memory does not grow with the account, and one
`random.Random(seed)` drives every draw, so equal arguments give byte-identical files.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from typing import Any

from plugin.demo.files import ArrayWriter, Record, iso, picker
from plugin.demo.lifetimes import Lifetime, write_truth

API = "https://example.zendesk.com/api/v2"
DAY, HOUR, MINUTE = 86_400, 3_600, 60
TENURE_DAYS, TENURE_SKEW = 6 * 365, 1.3  # skew > 1: more recent sign-ups (a growing base)
NEW_CUSTOMER_DAYS, NEW_CUSTOMER_SHARE, NEW_CUSTOMER_MAX_TICKETS = 60, 0.06, 2
TICKETS_MEDIAN, TICKETS_SIGMA, MAX_TICKETS = 3.4, 1.55, 2_000
RISING_SHARE, FALLING_SHARE, RISING_POWER, FALLING_POWER = 0.04, 0.03, 3.0, 0.4
REPLY_MEDIAN_MIN, REPLY_SIGMA = 90.0, 1.6
WORK_MEDIAN_MIN, WORK_SIGMA = 1_800.0, 1.2
REOPEN_EXTRA_MEDIAN_MIN, BUSINESS_DAY_MIN = 2_000.0, 480  # waits past a workday count ~30%
STUCK_SHARE = 0.03
CLOSE_AFTER_DAYS = 28
RATING_DELAY_MEDIAN_S, RATING_DELAY_SIGMA = 3 * HOUR, 1.0
OFFERED_SHARE, COMMENT_SHARE = 0.75, 0.30
RATE_ALPHA, RATE_BETA = 2.0, 3.7  # per-customer share of solved tickets rated, mean ~0.35
HAPPY_ALPHA, HAPPY_BETA = 4.0, 1.4  # per-customer chance a rating is good
SLOW_PENALTY, REOPEN_PENALTY, SLOW_MINUTES = 0.8, 0.7, 3 * 24 * 60
SURVEY_WINDOW_DAYS, SURVEY_SHARE, SURVEY_EXPIRY_DAYS = 548, 0.5, 28
CUSTOMERS_PER_ORG, ORG_MEMBER_SHARE = 8, 0.6
SPEND_NULL_SHARE, SPEND_ZERO_SHARE, SPEND_MEDIAN, SPEND_SIGMA = 0.30, 0.05, 900.0, 1.7
ORG_SPEND_MEDIAN, ORG_SPEND_SIGMA, MAX_SPEND = 6_000.0, 1.4, 200_000.0
VIP_SPEND, VIP_SHARE, NEWSLETTER_SHARE = 50_000.0, 0.02, 0.2
TRIAL_SHARE, VERIFIED_SHARE = 0.5, 0.85
PREFERRED_CHANNEL_SHARE, FAVOURITE_TOPIC_SHARE = 0.7, 0.6
PROGRESS_STEPS = 100
USER_ID_BASE, ORG_ID_BASE = 10_000_000, 360_000
METRIC_ID_BASE, RATING_ID_BASE = 50_000_000, 70_000_000
AGENT_IDS = tuple(range(900_001, 900_041))
BRAND_ID, TICKET_FORM_ID, SUPPORT_ADDRESS = 360_000_001, 360_000_002, "support@example.com"
STATUS_IDS = {"new": 1, "open": 2, "pending": 3, "hold": 4, "solved": 5, "closed": 5}
PRIORITIES = (("low", 0.22), ("normal", 0.50), ("high", 0.08), ("urgent", 0.03), (None, 0.17))
TYPES = (("question", 0.55), ("incident", 0.25), ("problem", 0.05), ("task", 0.03), (None, 0.12))
CHANNELS = (("email", 0.34), ("web", 0.24), ("chat", 0.12), ("voice", 0.07), ("api", 0.05),
            ("mobile", 0.08), ("native_messaging", 0.10))
UNSOLVED = (("open", 0.55), ("pending", 0.35), ("hold", 0.10))
REOPENS = ((0, 0.895), (1, 0.08), (2, 0.02), (3, 0.005))
TOPICS: dict[str, tuple[str, ...]] = {
    "billing": ("Question about my invoice", "Charged twice this month", "Update my card"),
    "login": ("Can't log in", "Password reset email never arrives", "2FA code rejected"),
    "shipping": ("Where is my order?", "Package arrived damaged", "Change delivery address"),
    "refund": ("Refund request", "Still waiting for my refund", "Return and refund for order"),
    "bug_report": ("Export button does nothing", "App crashes on startup", "Error 500 on save"),
    "feature_request": ("Feature request: dark mode", "Could you add CSV import?",
                        "Suggestion for the dashboard"),
    "integration": ("Slack integration stopped syncing", "API returns 401", "Webhook not firing"),
    "account": ("Change the owner of our account", "Close my account", "Add a teammate"),
}
TOPIC_NAMES = tuple(TOPICS)
GROUPS = {"billing": 20_001, "refund": 20_001, "login": 20_002, "account": 20_002, "bug_report":
          20_003, "integration": 20_003, "shipping": 20_004, "feature_request": 20_005}
GOOD_COMMENTS = ("Thanks, quick and helpful!", "Great support, problem solved.",
                 "Very friendly agent.", "Sorted in minutes, thank you.", "Danke, super Service!")
BAD_COMMENTS = ("Took far too long.", "Problem is still not fixed.", "Nobody read my message.",
                "I had to explain it three times.", "Not helpful at all.")
NEUTRAL_COMMENTS = ("It was okay.", "Fixed in the end, but slow.", "Fine, nothing special.")
FIRST_NAMES = ("Anna", "Ben", "Chloe", "David", "Emma", "Finn", "Grace", "Hugo", "Isabel", "Jack",
               "Léa", "Liam", "Maya", "Noah", "Olivia", "Pablo", "Ravi", "Sofia", "Tom", "Yuki",
               "Zoë", "José", "Björn", "Chloé", "Søren", "Łucja")
LAST_NAMES = ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Martin", "Lee", "Walker", "Clark",
              "Hall", "Young", "King", "Wright", "Lopez", "Schmidt", "Dubois", "Rossi", "Tanaka",
              "Müller", "Núñez", "García", "Lefèvre", "Østergaard", "Kowalczyk")
LOCALES = (("en-US", 1, 0.75, (("Eastern Time (US & Canada)", "America/New_York"),
                               ("Pacific Time (US & Canada)", "America/Los_Angeles"),
                               ("London", "Europe/London"))),
           ("de", 8, 0.09, (("Berlin", "Europe/Berlin"), ("Vienna", "Europe/Vienna"))),
           ("fr", 16, 0.08, (("Paris", "Europe/Paris"),)),
           ("es", 2, 0.08, (("Madrid", "Europe/Madrid"), ("Mexico City", "America/Mexico_City"))))
ORG_WORDS = (("Northwind", "Blue Harbor", "Acme", "Silver Oak", "Redwood", "Lumen", "Globex",
              "Nordlicht", "Café Olé", "Brightside", "Ironclad", "Maple"),
             ("Traders", "Logistics", "Labs", "Foods", "Retail", "Media", "Health", "Systems"))
PUBLIC_DOMAINS = ("example.com", "example.net", "example.org")
ORG_SEGMENTS = (("enterprise", 0.15), ("vip", 0.05), ("smb", 0.50), ("", 0.30))
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SURVEY_ID = "01HQ2ZK8W5R0J6T1D3E4F5G6H7"
SATISFACTION_LABELS = ("Very unsatisfied", "Unsatisfied", "Neither satisfied nor unsatisfied",
                       "Satisfied", "Very satisfied")
RATING_QUESTION = {"id": "01HQ2ZK8W5R0J6T1D3E4F5G6J8", "alias": "customer_satisfaction",
                   "type": "rating_scale_numeric", "sub_type": "customer_satisfaction",
                   "headline": {"type": "static", "value": "How satisfied were you?"},
                   "options": [{"rating": n, "label": {"type": "static", "value": label}}
                               for n, label in enumerate(SATISFACTION_LABELS, start=1)]}
"""A 5-point numeric CSAT question in the shape of Zendesk's "Rating scale question object"
(developer.zendesk.com, api-reference/ticketing/ticket-management/csat_survey_responses)."""
COMMENT_QUESTION = {"id": "01HQ2ZK8W5R0J6T1D3E4F5G6K9", "alias": "customer_satisfaction_comment",
                    "type": "open_ended", "sub_type": "customer_satisfaction_comment",
                    "headline": "Tell us more about your experience"}
FILES = ("users", "organizations", "tickets", "ticket_metrics", "satisfaction_ratings",
         "survey_responses")
_ASCII = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss"})


@dataclass(frozen=True, slots=True)
class GenerationSummary:
    """What `generate` wrote: record counts per file family, and the clock it used."""

    users: int
    organizations: int
    tickets: int
    ratings: int
    survey_responses: int
    now: datetime
    crm_contacts: int = 0
    deals: int = 0


_priority, _type, _channel = picker(PRIORITIES), picker(TYPES), picker(CHANNELS)
_unsolved, _reopens, _segment = picker(UNSOLVED), picker(REOPENS), picker(ORG_SEGMENTS)
_locale = picker(tuple((loc, loc[2]) for loc in LOCALES))


def _slug(text: str) -> str:
    """ASCII, lower-case, hyphenated: "Zoë Müller" -> "zoe-muller" (for emails and domains)."""
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII)).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9]+", "-", folded.decode().lower()).strip("-")


def _lognormal(rng: Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def _times(rng: Random, minutes: float | None) -> dict[str, int | None]:
    """A TicketMetricTimeObject: business hours are a share of calendar time for long waits."""
    if minutes is None:
        return {"calendar": None, "business": None}
    share = rng.uniform(0.6, 1.0) if minutes < BUSINESS_DAY_MIN else rng.uniform(0.22, 0.4)
    return {"calendar": int(minutes), "business": int(minutes * share)}


def _ulid(rng: Random, ts: int) -> str:
    """A ULID (as Zendesk's survey ids are): millisecond time, then 80 random bits."""
    value = (ts * 1000) << 80 | rng.getrandbits(80)
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


@dataclass(slots=True)
class _Customer:
    """One customer's drawn habits, fixed for all their tickets."""

    id: int
    created: int
    org: Record | None
    channel: str
    topic: str
    p_good: float
    p_rate: float
    survey: bool
    tags: list[str]
    email: str
    last_bad: bool = False
    """Whether the last rating drawn was bad (read by the customer's lifetime)."""


@dataclass(slots=True)
class _Life:
    """How one ticket went: status, waits (minutes) and the solve time (epoch seconds)."""

    status: str
    reply: float | None
    first_resolution: float | None
    full_resolution: float | None
    solved: int | None
    reopens: int
    replies: int


def _organizations(rng: Random, customers: int, now: int) -> list[Record]:
    """About one organization per CUSTOMERS_PER_ORG customers, with unique names and domains."""
    orgs, seen = [], set()
    for index in range(math.ceil(customers / CUSTOMERS_PER_ORG)):
        name = f"{rng.choice(ORG_WORDS[0])} {rng.choice(ORG_WORDS[1])}"
        name = name if name not in seen else f"{name} {index + 1}"
        seen.add(name)
        org_id, segment = ORG_ID_BASE + index + 1, _segment(rng)
        created = now - rng.randint(30 * DAY, (TENURE_DAYS + 365) * DAY)
        spend = _lognormal(rng, ORG_SPEND_MEDIAN, ORG_SPEND_SIGMA) * (3 if segment else 1)
        orgs.append({
            "url": f"{API}/organizations/{org_id}.json", "id": org_id, "name": name,
            "shared_tickets": False, "shared_comments": False, "external_id": None,
            "created_at": iso(created), "updated_at": iso(rng.randint(created, now)),
            "domain_names": [f"{_slug(name)}.example.com"], "details": "", "notes": "",
            "group_id": None, "tags": [segment] if segment else [],
            "organization_fields": {"lifetime_spend": round(min(spend, MAX_SPEND), 2)},
        })
    return orgs


def _customer(rng: Random, index: int, now: int, orgs: list[Record]) -> tuple[_Customer, int]:
    """Draws a customer's habits and ticket count; new customers get at most a couple."""
    is_new = rng.random() < NEW_CUSTOMER_SHARE
    span = TENURE_DAYS - NEW_CUSTOMER_DAYS
    age = rng.randint(0, NEW_CUSTOMER_DAYS * DAY) if is_new else int(
        (NEW_CUSTOMER_DAYS + span * rng.random() ** TENURE_SKEW) * DAY)
    if is_new:
        count = rng.randint(0, NEW_CUSTOMER_MAX_TICKETS)
    else:
        count = min(MAX_TICKETS, int(_lognormal(rng, TICKETS_MEDIAN, TICKETS_SIGMA)))
    org = None
    if orgs and rng.random() < ORG_MEMBER_SHARE:
        org = orgs[int(len(orgs) * rng.random() ** 2)]
    cust = _Customer(
        id=USER_ID_BASE + index + 1, created=now - age, org=org, channel=_channel(rng),
        topic=rng.choice(TOPIC_NAMES), p_good=rng.betavariate(HAPPY_ALPHA, HAPPY_BETA),
        p_rate=rng.betavariate(RATE_ALPHA, RATE_BETA),
        survey=age < SURVEY_WINDOW_DAYS * DAY and rng.random() < SURVEY_SHARE,
        tags=["trial"] if is_new and rng.random() < TRIAL_SHARE else [], email="")
    return cust, count


def _ticket_times(rng: Random, start: int, now: int, count: int) -> list[int]:
    """Creation times between sign-up and now; a few customers ramp up, a few fade away."""
    draw = rng.random()
    power = RISING_POWER if draw < RISING_SHARE else (
        FALLING_POWER if draw < RISING_SHARE + FALLING_SHARE else 1.0)
    span, inverse = now - start, 1.0 / power
    return sorted(start + int(span * rng.random() ** inverse) for _ in range(count))


def _life(rng: Random, created: int, now: int) -> _Life:
    """Draws waits, then lets the clock decide: solved if it would be by now, else still open."""
    reply = _lognormal(rng, REPLY_MEDIAN_MIN, REPLY_SIGMA)
    reopens = _reopens(rng)
    first = reply + _lognormal(rng, WORK_MEDIAN_MIN, WORK_SIGMA)
    full = first + sum(_lognormal(rng, REOPEN_EXTRA_MEDIAN_MIN, 1.0) for _ in range(reopens))
    solved = created + int(full * MINUTE)
    replies = min(15, 1 + reopens + int(rng.expovariate(0.7)))
    if solved <= now and rng.random() >= STUCK_SHARE:
        status = "closed" if now - solved > CLOSE_AFTER_DAYS * DAY else "solved"
        return _Life(status, reply, first, full, solved, reopens, replies)
    if created + int(reply * MINUTE) > now:
        return _Life("new", None, None, None, None, 0, 0)
    return _Life(_unsolved(rng), reply, None, None, None, 0, min(replies, 2))


def _metric(rng: Random, ticket: Record, created: int, life: _Life, updated: int) -> Record:
    """A TicketMetricObject consistent with the ticket's life (seconds only for messaging)."""
    metric_id, ticket_id = METRIC_ID_BASE + ticket["id"], ticket["id"]
    seconds = None if life.reply is None or not ticket["from_messaging_channel"] else int(
        life.reply * MINUTE)
    replied = None if life.reply is None else created + int(life.reply * MINUTE)
    assigned = None if replied is None else created + int(life.reply * MINUTE * rng.random())
    last = life.solved or replied or created
    wait = None if life.full_resolution is None else life.full_resolution * rng.uniform(0, 0.3)
    hold = 0.0 if life.full_resolution is None else life.full_resolution * rng.uniform(0, 0.05)
    return {
        "url": f"{API}/ticket_metrics/{metric_id}.json", "id": metric_id, "ticket_id": ticket_id,
        "created_at": iso(created), "updated_at": iso(updated),
        "group_stations": 1 + (life.reopens > 0), "assignee_stations": 1 + (life.reopens > 1),
        "reopens": life.reopens, "replies": life.replies,
        "assignee_updated_at": iso(None if replied is None else last),
        "requester_updated_at": iso(created), "status_updated_at": iso(last),
        "initially_assigned_at": iso(assigned), "assigned_at": iso(assigned),
        "solved_at": iso(life.solved), "latest_comment_added_at": iso(last),
        "custom_status_updated_at": iso(last),
        "reply_time_in_minutes": _times(rng, life.reply),
        "reply_time_in_seconds": {"calendar": seconds},
        "first_resolution_time_in_minutes": _times(rng, life.first_resolution),
        "full_resolution_time_in_minutes": _times(rng, life.full_resolution),
        "agent_wait_time_in_minutes": _times(rng, wait),
        "requester_wait_time_in_minutes": _times(rng, None if wait is None
                                                 else life.full_resolution - wait - hold),
        "on_hold_time_in_minutes": _times(rng, hold),
    }


def _good_chance(cust: _Customer, life: _Life) -> float:
    """The chance this rating is good: the customer's mood, soured by slow or reopened work."""
    chance = cust.p_good
    if (life.full_resolution or 0) > SLOW_MINUTES:
        chance *= SLOW_PENALTY
    return chance * (REOPEN_PENALTY if life.reopens else 1.0)


def _survey_response(rng: Random, cust: _Customer, ticket_id: int, solved: int, rated: int,
                     good: bool) -> Record:
    """A 1–5 CSAT survey response (Zendesk's newer CSAT), with an optional comment."""
    rating = (5 if rng.random() < 0.55 else 4) if good else rng.choice((1, 2, 3))
    category = "good" if rating >= 4 else "neutral" if rating == 3 else "bad"
    stamp = iso(rated)
    answers: list[Record] = [{
        "type": "rating_scale", "rating": rating, "rating_category": category,
        "question": RATING_QUESTION, "created_at": stamp, "updated_at": stamp}]
    if rng.random() < COMMENT_SHARE:
        pool = {"good": GOOD_COMMENTS, "neutral": NEUTRAL_COMMENTS, "bad": BAD_COMMENTS}[category]
        answers.append({"type": "open_ended", "value": rng.choice(pool),
                        "question": COMMENT_QUESTION, "created_at": stamp, "updated_at": stamp})
    return {"id": _ulid(rng, rated), "survey_id": SURVEY_ID, "survey_version": 1,
            "expires_at": iso(solved + SURVEY_EXPIRY_DAYS * DAY), "responder_id": cust.id,
            "subjects": [{"id": str(ticket_id), "type": "ticket",
                          "zrn": f"zen:ticket:{ticket_id}"}],
            "answers": answers}


def _satisfaction(rng: Random, cust: _Customer, ticket: Record, life: _Life, now: int,
                  out: dict[str, ArrayWriter]) -> int:
    """Rates a solved ticket (good/bad or survey) or marks the offer; returns its last change."""
    ticket["satisfaction_rating"] = {"score": "unoffered", "id": None, "comment": None}
    if life.solved is None:
        return 0
    delay = int(_lognormal(rng, RATING_DELAY_MEDIAN_S, RATING_DELAY_SIGMA))
    rated = life.solved + delay
    if rated > now or delay > CLOSE_AFTER_DAYS * DAY or rng.random() >= cust.p_rate:
        if rng.random() < OFFERED_SHARE:
            ticket["satisfaction_rating"]["score"] = "offered"
        return 0
    good = rng.random() < _good_chance(cust, life)
    cust.last_bad = not good
    if cust.survey:
        ticket["satisfaction_rating"]["score"] = "offered"
        out["survey_responses"].write(_survey_response(rng, cust, ticket["id"], life.solved,
                                                       rated, good))
        return rated
    rating_id = RATING_ID_BASE + out["satisfaction_ratings"].count + 1
    comment = rng.choice(GOOD_COMMENTS if good else BAD_COMMENTS) \
        if rng.random() < COMMENT_SHARE else None
    score = "good" if good else "bad"
    ticket["satisfaction_rating"] = {"id": rating_id, "score": score, "comment": comment}
    out["satisfaction_ratings"].write({
        "url": f"{API}/satisfaction_ratings/{rating_id}.json", "id": rating_id,
        "assignee_id": ticket["assignee_id"], "group_id": ticket["group_id"],
        "requester_id": cust.id, "ticket_id": ticket["id"], "score": score, "comment": comment,
        "created_at": iso(rated), "updated_at": iso(rated)})
    return rated


def _ticket(rng: Random, cust: _Customer, ticket_id: int, created: int, life: _Life) -> Record:
    """A TicketObject (satisfaction and updated_at are filled in once the rating is known)."""
    topic = cust.topic if rng.random() < FAVOURITE_TOPIC_SHARE else rng.choice(TOPIC_NAMES)
    channel = cust.channel if rng.random() < PREFERRED_CHANNEL_SHARE else _channel(rng)
    subject = rng.choice(TOPICS[topic])
    org_tags, email = (cust.org["tags"] if cust.org else []), channel == "email"
    source = {"from": {"address": cust.email} if email else {},
              "to": {"address": SUPPORT_ADDRESS, "name": "Support"} if email else {}, "rel": None}
    return {
        "url": f"{API}/tickets/{ticket_id}.json", "id": ticket_id, "external_id": None,
        "via": {"channel": channel, "source": source}, "created_at": iso(created),
        "updated_at": None, "generated_timestamp": 0, "type": _type(rng), "subject": subject,
        "raw_subject": subject, "description": f"{subject}. Could you please help?",
        "priority": _priority(rng), "status": life.status, "custom_status_id":
        STATUS_IDS[life.status], "recipient": SUPPORT_ADDRESS if email else None,
        "requester_id": cust.id, "submitter_id": cust.id,
        "assignee_id": None if life.status == "new" else rng.choice(AGENT_IDS),
        "organization_id": cust.org["id"] if cust.org else None, "group_id": GROUPS[topic],
        "collaborator_ids": [], "follower_ids": [], "email_cc_ids": [], "forum_topic_id": None,
        "problem_id": None, "has_incidents": False, "is_public": True, "due_at": None,
        "tags": list(dict.fromkeys((topic, *cust.tags, *org_tags))), "custom_fields": [],
        "satisfaction_rating": None, "sharing_agreement_ids": [], "followup_ids": [],
        "ticket_form_id": TICKET_FORM_ID, "brand_id": BRAND_ID, "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": channel == "native_messaging",
    }


def _tickets(rng: Random, cust: _Customer, times: list[int], now: int, first_id: int,
             out: dict[str, ArrayWriter], lifetime: Lifetime | None = None) -> tuple[int, int]:
    """Writes the customer's tickets with their metrics and ratings; returns the last change
    and the tickets written (with a `lifetime`, none created after the customer left)."""
    latest, written = cust.created, 0
    for offset, created in enumerate(times):
        if lifetime is not None:
            lifetime.until(created)
            if lifetime.churned_at is not None and lifetime.churned_at < created:
                break
        life = _life(rng, created, now)
        ticket = _ticket(rng, cust, first_id + offset, created, life)
        cust.last_bad = False
        rated = _satisfaction(rng, cust, ticket, life, now, out)
        if lifetime is not None:
            lifetime.served(life.solved or created, bad_rating=cust.last_bad and rated > 0,
                            reply_minutes=life.reply, resolution_minutes=life.full_resolution,
                            reopens=life.reopens)
        updated = max(created, rated, life.solved or 0)
        if life.status == "closed":
            updated = max(updated, life.solved + CLOSE_AFTER_DAYS * DAY)
        elif life.reply is not None and life.solved is None:
            updated = rng.randint(created + int(life.reply * MINUTE), now)
        ticket["updated_at"], ticket["generated_timestamp"] = iso(updated), updated
        out["tickets"].write(ticket)
        out["ticket_metrics"].write(_metric(rng, ticket, created, life, updated))
        latest = max(latest, updated)
        written += 1
    return latest, written


def _user(rng: Random, cust: _Customer, name: str, tickets: int) -> Record:
    """A UserObject for an end-user, with a long-tailed `lifetime_spend` custom field.

    Segment tags land on `cust.tags` before the tickets are drawn, since Zendesk copies the
    requester's tags onto new tickets; `updated_at` and `last_login_at` come after them.
    """
    locale, locale_id, _, zones = _locale(rng)
    zone, iana = rng.choice(zones)
    spend = None
    if rng.random() >= SPEND_NULL_SHARE:
        spend = 0.0 if rng.random() < SPEND_ZERO_SHARE else round(min(MAX_SPEND, _lognormal(
            rng, SPEND_MEDIAN, SPEND_SIGMA) * (1 + tickets) ** 0.25), 2)
    if (spend or 0) > VIP_SPEND or rng.random() < VIP_SHARE:
        cust.tags.append("vip")
    if rng.random() < NEWSLETTER_SHARE:
        cust.tags.append("newsletter")
    return {
        "url": f"{API}/users/{cust.id}.json", "id": cust.id, "name": name, "email": cust.email,
        "created_at": iso(cust.created), "updated_at": None,
        "time_zone": zone, "iana_time_zone": iana, "phone": None, "shared_phone_number": None,
        "photo": None, "locale_id": locale_id, "locale": locale,
        "organization_id": cust.org["id"] if cust.org else None, "role": "end-user",
        "verified": rng.random() < VERIFIED_SHARE, "external_id": None, "tags": cust.tags,
        "alias": "", "active": True, "shared": False, "shared_agent": False,
        "last_login_at": None, "two_factor_auth_enabled": None, "details": "", "notes": "",
        "role_type": None, "custom_role_id": None, "moderator": False,
        "ticket_restriction": "requested",
        "only_private_comments": False, "restricted_agent": True, "suspended": False,
        "default_group_id": None, "report_csv": False, "user_fields": {"lifetime_spend": spend},
    }


def _customers(rng: Random, count: int, now: int, orgs: list[Record],
               out: dict[str, ArrayWriter], crm: Any = None,
               truths: dict[int, dict[str, object]] | None = None,
               life_rng: Random | None = None) -> Iterator[int]:
    """Writes each customer in turn (user, tickets, metrics, ratings, and CRM records through
    `crm`, a `crm_generator.CrmWriter`), yielding after each. With `truths`, each customer
    lives a lifetime (`plugin.demo.lifetimes`, drawn from `life_rng`) recorded there."""
    next_ticket = 1
    for index in range(count):
        cust, tickets = _customer(rng, index, now, orgs)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        domain = cust.org["domain_names"][0] if cust.org else rng.choice(PUBLIC_DOMAINS)
        cust.email = f"{_slug(name).replace('-', '.')}.{cust.id}@{domain}"
        times = _ticket_times(rng, cust.created, now, tickets)
        user = _user(rng, cust, name, tickets)
        lifetime = None if truths is None or life_rng is None else Lifetime.draw(
            life_rng, cust.created, now)
        latest, tickets = _tickets(rng, cust, times, now, next_ticket, out, lifetime)
        user["updated_at"] = iso(latest)
        if tickets and cust.channel != "email":
            user["last_login_at"] = user["updated_at"]
        if lifetime is not None:
            lifetime.finish()
            truth = lifetime.truth()
            if user["user_fields"]["lifetime_spend"] is not None:  # the true spend so far
                user["user_fields"]["lifetime_spend"] = truth["spend_to_date"]
        out["users"].write(user)
        if crm is not None:
            if lifetime is None:
                crm.add(name, cust.email, cust.created, now)
            else:
                truth["in_crm"] = crm.add(
                    name, cust.email, cust.created, now,
                    purchases=[(t, a) for t, a in lifetime.purchases if t <= now],
                    former=not truth["alive_at_end"])
        if lifetime is not None and truths is not None:
            truths[cust.id] = truth
        next_ticket += tickets
        yield index + 1


def generate(out: Path, customers: int, *, seed: int = 7, now: datetime,
             progress: Callable[[int], None] | None = None,
             lifetimes: bool = False) -> GenerationSummary:
    """Writes a realistic dataset folder of `customers` end-users to `out` (created if missing).

    Deterministic: the same `seed`, `now` and `customers` give byte-identical files. `now` must
    carry a time zone; nothing written happens after it (survey `expires_at` is a deadline and
    may lie beyond). `progress` hears the number of customers done, about every 1%. The CRM
    files (`crm_generator`) are drawn from a generator of their own.

    With `lifetimes`, customers live the lifetimes of `plugin.demo.lifetimes` (purchases as
    the CRM's won deals, leaving sooner after bad service, nothing after leaving) and
    `truth.json` records what happened to each; without, the files are as they always were.
    """
    from plugin.demo.crm_generator import CrmWriter

    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    if customers < 0:
        raise ValueError(f"customers must be >= 0, not {customers}")
    stamp = int(now.timestamp())
    rng = Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    orgs = _organizations(rng, customers, stamp)
    step = max(1, customers // PROGRESS_STEPS)
    with ExitStack() as stack:
        writers = {key: stack.enter_context(ArrayWriter(out / f"{key}.json", key))
                   for key in FILES}
        for org in orgs:
            writers["organizations"].write(org)
        crm = CrmWriter(out, seed, stack)
        truths: dict[int, dict[str, object]] | None = {} if lifetimes else None
        for done in _customers(rng, customers, stamp, orgs, writers, crm, truths,
                               Random(f"life-{seed}")):
            if progress is not None and (done % step == 0 or done == customers):
                progress(done)
    if truths is not None:
        write_truth(out, stamp, truths)
    return GenerationSummary(
        users=writers["users"].count, organizations=writers["organizations"].count,
        tickets=writers["tickets"].count, ratings=writers["satisfaction_ratings"].count,
        survey_responses=writers["survey_responses"].count,
        now=datetime.fromtimestamp(stamp, UTC), crm_contacts=crm.contacts, deals=crm.deals)
