"""The sidebar's glance: the value on its scale, one line of reasons, the next step and the
details, worded and formatted (Babel) in the agent's language, replies in the requester's;
setup problems left to the settings page."""

from datetime import timedelta
from functools import partial

import pytest

from plugin.core.phrases import ENGLISH, phrase
from plugin.web.contract import notice_audience
from plugin.web.evidence import evidence
from plugin.web.i18n import catalog
from plugin.web.words import Words
from tests import tokens
from tests.factories import NOW
from tests.fakes import FakeRichZendesk

session = partial(tokens.session, now=NOW)


@pytest.fixture
def app(make_app):
    return make_app({"DEMO_MODE": True, "ZENDESK_BASE_URL": "https://acme.zendesk.com",
                     "ZENDESK_EMAIL": "a@acme.com", "ZENDESK_API_TOKEN": tokens.ACME_TOKEN},
                    client_factory=lambda config: FakeRichZendesk(), clock=lambda: NOW)


def get(app, locale="en", **params):
    query = "&".join(f"{k}={v}" for k, v in {"locale": locale, **params}.items())
    response = app.test_client().get(f"/api/customers/7/glance?{query}", headers=session())
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_glance_reads_in_whole_numbers_with_a_line_of_reasons(app):
    body = get(app)
    assert body["value"]["text"].lstrip("+−").isdigit()
    assert body["tier"]["label"].endswith("value")
    reasons = body["reasons"].split(" · ")
    assert 1 <= len(reasons) <= 3 and all(r[:2] in ("↑ ", "↓ ") for r in reasons)
    assert "$27.5K spent" in body["reasons"], body["reasons"]
    assert [t["label"].split()[0] for t in body["value"]["thresholds"]] == ["low", "high"]
    assert body["trend"] is not None and body["trend"]["text"].endswith("in 30 days")
    assert body["updated"] == "Updated just now"


def test_unmeasured_signals_are_named_not_drawn(app):
    details = get(app)["details"]
    assert "Deals won" in [item["label"] for item in details["unmeasured"]]
    drawn = {s["signal"] for s in details["benefits"] + details["costs"]}
    assert "deal_count" not in drawn and "ticket_volume" in drawn
    assert all(" of " in s["points"] and "." not in s["points"] for s in details["benefits"])


def test_the_tag_an_action_adds_is_named_and_buttons_carry_their_suggestion(app):
    suggestions = get(app)["suggestions"]
    assert suggestions
    for s in suggestions:
        assert s["title"] in s["action"]["accessible"] and s["title"] in s["dismiss"]
        if s["action"]["type"] == "tag":
            assert s["action"]["value"] in s["action"]["label"]


def test_no_customer_tag_becomes_a_topic_in_a_reply(app):
    replies = [s["action"]["value"] for s in get(app)["suggestions"]
               if s["action"]["type"] == "reply"]
    assert replies and not any("premium" in text for text in replies)


def test_german_has_no_english_words(app):
    body = get(app, "de", reply_locale="de")
    english = {"spent", "tickets", "value", "customer", "ratings", "good", "Updated", "days",
               "years", "thank", "you", "with", "Reward", "loyalty", "Insert", "Dismiss"}
    words = set(" ".join(shown(body)).replace(",", " ").replace(".", " ").split())
    assert not words & english, words & english
    assert "ausgegeben" in body["reasons"]
    assert body["updated"] == "Aktualisiert gerade eben"


def shown(node, key=""):
    """Every string the sidebar shows (not ids, signal keys or action kinds)."""
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in shown(v, k)]
    if isinstance(node, list):
        return [t for v in node for t in shown(v, key)]
    hidden = {"id", "signal", "type", "key", "kind", "direction", "computed_at", "name"}
    return [node] if isinstance(node, str) and key not in hidden else []


@pytest.mark.parametrize(("text", "audience"), [
    ("Deals in CHF left out: no exchange rate to USD", "admin"),
    ("2 CRM contacts match tom@example.com in Zendesk Sell; their deals are not counted until "
     "the duplicates are merged", "admin"),
    ("Zendesk Sell is not configured; spend from Zendesk Sell is left out until an admin sets "
     "its credentials", "admin"),
    ("History still loading: tickets closed more than 120 days ago are not included yet",
     "agent"),
    ("Zendesk is unavailable; showing the last known value", "agent"),
])
def test_setup_problems_are_for_admins(text, audience):
    assert notice_audience(text) == audience


def test_the_value_contract_marks_each_notice_with_its_audience(app):
    body = app.test_client().get("/api/customers/7/value", headers=session()).get_json()
    assert len(body["notice_audiences"]) == len(body["notices"])
    assert body["tiers"] is not None


def test_lifetime_figures_go_under_details_when_the_model_gives_them(app):
    from dataclasses import dataclass

    from plugin.core.settings import Settings
    from plugin.web.glance import glance

    services = app.extensions["customer_value"]
    config = services.zendesk
    assessment = services.value(config, 7).result

    @dataclass
    class WithLifetime:
        value: object
        suggestions: tuple
        trend: tuple
        lifetime: dict

    lifetime = {"active_probability": 0.82, "expected_purchases_12m": 2.4,
                "expected_spend_12m": 5400.0, "currency": "USD", "basis": "BG/NBD"}
    made = glance(WithLifetime(assessment.value, assessment.suggestions, assessment.trend,
                               lifetime), settings=Settings(), now=NOW, stale=False,
                  notices=(), agent_locale="de", reply_locale=None, tiers=None)
    assert made["details"]["lifetime"] == [["Noch aktiv", "82\u00a0%"],
                                           ["Erwartete Käufe", "2"],
                                           ["Erwarteter Umsatz", "5.400\u00a0$"]]
    assert get(app)["details"]["lifetime"] is None


@pytest.mark.parametrize(("locale", "label", "reason"), [
    ("en", "Add tag “cv_at_risk”", "At risk: low value (−40), 2 bad ratings in the last 30 days"),
    ("de", "Tag „cv_at_risk“ hinzufügen",
     "Gefährdet: niedriger Wert (−40), 2 schlechte Bewertungen in den letzten 30 Tagen"),
])
def test_a_tag_action_names_its_tag_in_the_agents_words(locale, label, reason):
    from plugin.core.settings import Settings
    from plugin.core.suggestions import Action, Suggestion
    from plugin.web.glance import Words, suggestion_view

    found = suggestion_view(Suggestion("proactive_outreach", "Proactive outreach", "At risk",
                                   Action("tag", "cv_at_risk"), 95,
                                   {"value": "-40", "bad_recent": "2", "days": "30"}),
                        Words(locale), Words(locale), Settings())
    assert found["action"]["label"] == label
    assert found["action"]["accessible"] == f"{label}: {found['title']}"
    assert found["reason"] == reason


def test_the_agent_reads_plain_notices_and_no_setup_problem(app):
    from plugin.core.settings import Settings
    from plugin.web.glance import glance

    services = app.extensions["customer_value"]
    assessment = services.value(services.zendesk, 7).result
    notices = ("2 CRM contacts match tom@example.com in Zendesk Sell; their deals are not "
               "counted until the duplicates are merged",
               "Deals in CHF left out: no exchange rate to USD",
               "Zendesk Sell is not configured; spend from Zendesk Sell is left out until an "
               "admin sets its credentials",
               "Zendesk is unavailable; showing the last known value")
    made = glance(assessment, settings=Settings(), now=NOW, stale=True, notices=notices,
                  agent_locale="en", reply_locale=None, tiers=None)
    assert made["notices"] == ["Zendesk cannot be reached right now; this value is from "
                               "earlier."]
    assert "@" not in repr(made)


def test_the_reply_follows_the_requester_and_the_interface_the_agent(app):
    body = get(app, "de", reply_locale="en-GB")
    replies = [s for s in body["suggestions"] if s["action"]["type"] == "reply"]
    assert replies
    for s in replies:
        assert s["action"]["greeting"] in ("Hi Tom,", "")
        assert s["action"]["label"] == "Antwort ansehen"
    assert any(s["action"]["value"].startswith(("As one of", "Hi Tom")) for s in replies)


def test_a_pinned_tier_chooses_the_suggestions(app):
    """Pinned Low value, the customer the model calls High is offered outreach, not a loyalty
    reward; the pin's end brings the reward back."""
    assert "loyalty_reward" in [s["id"] for s in get(app)["suggestions"]]
    services = app.extensions["customer_value"]
    overrides = services.overrides(services.store("https://acme.zendesk.com"))
    pin = overrides.pin("user", 7, tier="low", reason="Disputed invoices",
                        expires_at=NOW + timedelta(days=7), actor_id=125,
                        actor_name="Ada Lead", now=NOW)
    pinned = get(app)
    assert pinned["tier"]["key"] == "low" and pinned["pin"]
    offered = [s["id"] for s in pinned["suggestions"]]
    assert "loyalty_reward" not in offered and "proactive_outreach" in offered, offered
    overrides.end(pin.id, actor_id=125, actor_name="Ada Lead", now=NOW)
    assert "loyalty_reward" in [s["id"] for s in get(app)["suggestions"]]


def test_every_evidence_sentence_reads_in_german_with_no_word_of_the_models_english(app):
    """The model's own evidence (the contract's English `evidence` and `reason`) is shown
    translated: each signal in Details carries its sentence in German, and no word of the
    English sentences (other than names and numbers German shares) is left in them."""
    contract = app.test_client().get("/api/customers/7/value", headers=session()).get_json()
    signals = contract["benefits"] + contract["costs"]
    german_table = " ".join(shown(catalog("de")))
    english = {word for s in signals
               for word in _words(s["evidence"] + " " + (s.get("reason") or ""))
               } - set(_words(german_table))
    details = get(app, "de")["details"]
    sentences = [s["evidence"] for s in details["benefits"] + details["costs"]] + [
        item["reason"] for item in details["unmeasured"]]
    assert len(sentences) == len(signals) and all(sentences), sentences
    left = {word for text in sentences for word in _words(text)} & english
    assert not left, (left, sentences)
    assert any("insgesamt" in text for text in sentences), sentences


def test_english_evidence_comes_from_the_message_table_with_babels_numbers(app):
    details = get(app)["details"]
    by_signal = {s["signal"]: s["evidence"] for s in details["benefits"] + details["costs"]}
    assert by_signal["ticket_volume"].endswith(" in all") and "in the last 30 days" in \
        by_signal["ticket_volume"]
    assert by_signal["lifetime_spend"] == "$27.5K spent (their user field), $59 to serve"
    assert by_signal["tenure"].startswith("customer for 5 years")


def _words(text):
    return [w for w in text.replace(",", " ").replace(".", " ").replace(";", " ").replace(
        "(", " ").replace(")", " ").replace(":", " ").split() if not any(c.isdigit() for c in w)]


PHRASES = {
    "purchases_a_year": {"per_year": 2.25}, "won_lost": {"won": 3, "lost": 1},
    "average_deal": {"amount": 1234.5, "currency": "EUR"}, "crm_not_asked": {"crm": "Bitrix24"},
    "no_crm_contact": {"crm": "Zendesk Sell"},
    "spend": {"amount": 27_500.0, "cost": 120.0, "currency": "EUR", "basis": "Zendesk Sell",
              "field": "3 won deals", "deals": 3},
    "last_purchase": {"days": 400.0, "gap_days": 90.0, "overdue_days": 310.0},
    "tenure": {"days": 800.0, "silent_days": 400.0}, "no_ratings_yet": {"estimate": 0.85},
    "gone_quiet": {"days": 200.0, "gap_days": 60.0, "overdue_days": 140.0},
    "ratings": {"good": 4, "ratings": 5, "estimate": 0.8, "surveys": 2, "survey_average": 4.5},
    "positive_comments": {"n": 1}, "tickets": {"recent": 1, "days": 30, "total": 2},
    "against_typical": {"signal": "resolution_wait", "ratio": 1.52, "typical_replies": 3.0,
                        "typical_minutes": 2880.0},
    "reopened": {"tickets": 1, "reopens": 2}, "escalations": {"n": 2}, "bad_ratings": {"n": 1},
}


@pytest.mark.parametrize("key", sorted(ENGLISH))
def test_every_phrase_of_the_model_is_worded_in_english_and_german(key):
    made = phrase(key, **PHRASES.get(key, {}))
    english, german = evidence(made, Words("en")), evidence(made, Words("de"))
    assert english and german and english != german, (english, german)
    assert "{" not in english + german, (english, german)
    assert str(made), "the model's own English"
