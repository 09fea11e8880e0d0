"""Alerts evaluated and acted on: after a value is computed for a tagging job (the customer's
own rules, with the ticket at hand), and once a day for every customer of the overview.

An alert fires once per episode (`plugin.core.alerts`); its actions: an internal note on the
customer's open ticket, a tag, a raised priority (one ticket update for the three), and a
signed outbound webhook. Each alert is kept with what every action did.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from integrations.errors import IntegrationError
from integrations.outbound import post_json
from integrations.zendesk import ZendeskConfig
from plugin.core.alerts import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AlertFacts,
    AlertRule,
    holds,
    raised,
    sign,
)
from plugin.core.model import CustomerValue
from plugin.core.times import zulu
from plugin.service_layer.services import Services
from plugin.storage.alerts import AlertStore
from plugin.storage.overview import Filters, OverviewStore, Row
from plugin.storage.secrets import ALERT_SECRET

PAYLOAD_VERSION = 1


@dataclass(frozen=True)
class Fired:
    alert_id: int
    rule: AlertRule
    facts: AlertFacts
    reason: str
    done: list[dict[str, Any]]


def facts_of(value: CustomerValue, before: tuple[float | None, str | None] | None
             ) -> AlertFacts:
    """A freshly computed value, with its value and tier 30 days ago as the overview last
    stored them (`before`)."""
    value_30d, tier_30d = before if before is not None else (None, None)
    return AlertFacts(user_id=value.user_id, name=value.name, value=value.value,
                      tier=value.tier, value_30d=value_30d, tier_30d=tier_30d,
                      bad_ratings_30d=value.measures.bad_recent)


def row_facts(row: Row) -> AlertFacts:
    return AlertFacts(user_id=row.user_id, name=row.name, value=row.value, tier=row.tier,
                      value_30d=row.value_30d, tier_30d=row.tier_30d,
                      bad_ratings_30d=int(row.drivers.get("bad_ratings_30d", 0)))


def after_value(services: Services, config: ZendeskConfig, value: CustomerValue,
                ticket_id: int) -> list[Fired]:
    """The tagging job's check, for the customer whose value was just computed: no query while
    the account has no enabled rule (the rules are reused for a few seconds), else one (the
    customer's stored 30-day facts and open episodes together)."""
    store = services.store(config.base_url)
    alerts = AlertStore(services.engine, store.account)
    rules = services.cached(("alert_rules", store.account), alerts.rules)
    if not rules:
        return []
    before, going = alerts.customer(value.user_id)
    return evaluate(services, config, rules, [facts_of(value, before)],
                    ticket_for=lambda user_id: ticket_id, alerts=alerts, everyone=going)


def daily(services: Services, account_key: str) -> list[Fired]:
    """Every customer of the account's overview, against every rule."""
    config = services.config_for(account_key)
    store = services.store(account_key)
    alerts = AlertStore(services.engine, store.account)
    rules = alerts.rules()
    if not rules:
        return []
    overview = OverviewStore(services.engine, store.account)
    return evaluate(services, config, rules, (row_facts(r) for r in overview.each(Filters())),
                    ticket_for=store.open_ticket, alerts=alerts, everyone=alerts.open_alerts())


def evaluate(services: Services, config: ZendeskConfig, rules: list[AlertRule],
             facts: Iterable[AlertFacts], *, ticket_for, alerts: AlertStore,
             everyone: dict[tuple[int, int], int] | None = None) -> list[Fired]:
    """Fire the rules that started to hold, end the episodes that stopped holding.
    `everyone`: the open episodes read beforehand (the account's, for the daily pass; the
    customer's, for a job), else each customer's are read."""
    now = services.clock()
    fired: list[Fired] = []
    for customer in facts:
        going = everyone if everyone is not None else alerts.open_alerts(customer.user_id)
        for rule in rules:
            reason = holds(rule, customer)
            episode = going.get((rule.id, customer.user_id))
            if reason and episode is None:
                alert_id = alerts.fire(rule.id, customer.user_id, reason, now)
                done = act(services, config, rule, customer, reason,
                           ticket_for(customer.user_id), alert_id, now)
                alerts.record(alert_id, done)
                fired.append(Fired(alert_id, rule, customer, reason, done))
            elif not reason and episode is not None:
                alerts.end(episode, now)
    return fired


def act(services: Services, config: ZendeskConfig, rule: AlertRule, facts: AlertFacts,
        reason: str, ticket_id: int | None, alert_id: int, now: datetime
        ) -> list[dict[str, Any]]:
    """Carry out the rule's actions; what each did."""
    done: list[dict[str, Any]] = []
    changes: dict[str, Any] = {}
    on_ticket = [a for a in rule.actions if a["type"] in ("note", "tag", "priority")]
    if on_ticket and ticket_id is None:
        done += [{"type": a["type"], "ok": False, "detail": "no open ticket"}
                 for a in on_ticket]
    elif on_ticket:
        client = services.client(config)
        for action in on_ticket:
            if action["type"] == "note":
                changes["comment"] = {"body": _note(rule, facts, reason), "public": False}
            elif action["type"] == "tag":
                changes.setdefault("additional_tags", []).append(action["tag"])
            elif action["type"] == "priority":
                try:
                    wanted = raised(client.ticket_priority(ticket_id), action["priority"])
                except IntegrationError as error:
                    done.append({"type": "priority", "ok": False, "detail": str(error)})
                    continue
                if wanted:
                    changes["priority"] = wanted
                else:
                    done.append({"type": "priority", "ok": True,
                                 "detail": "already at that priority or higher"})
        if changes:
            try:
                client.update_ticket(ticket_id, changes)
                ok, detail = True, f"ticket {ticket_id} updated"
            except IntegrationError as error:
                ok, detail = False, str(error)
            done += [{"type": t, "ok": ok, "detail": detail} for t, key in (
                ("note", "comment"), ("tag", "additional_tags"), ("priority", "priority"))
                if key in changes]
    for action in (a for a in rule.actions if a["type"] == "webhook"):
        done.append({"type": "webhook", "ok": None, "detail": _webhook(
            services, config, action["url"], payload(config, rule, facts, reason, ticket_id,
                                                     alert_id, now))})
        done[-1]["ok"] = done[-1]["detail"].startswith("delivered")
    return done


def payload(config: ZendeskConfig, rule: AlertRule, facts: AlertFacts, reason: str,
            ticket_id: int | None, alert_id: int, now: datetime) -> dict[str, Any]:
    """The webhook's JSON body (documented in docs/alerts.md)."""
    return {
        "version": PAYLOAD_VERSION, "type": "customer_value.alert", "alert_id": alert_id,
        "account": config.base_url, "fired_at": zulu(now),
        "rule": {"id": rule.id, "kind": rule.kind, "threshold": rule.threshold,
                 "label": rule.label},
        "reason": reason,
        "customer": {"id": facts.user_id, "name": facts.name, "value": facts.value,
                     "tier": facts.tier, "value_30d": facts.value_30d,
                     "tier_30d": facts.tier_30d,
                     "url": f"{config.base_url}/agent/users/{facts.user_id}"},
        "ticket_id": ticket_id,
    }


def _webhook(services: Services, config: ZendeskConfig, url: str, body: dict[str, Any]) -> str:
    secret = services.secret(services.store(config.base_url), ALERT_SECRET)
    if not secret:
        return "not sent: set the alert webhook signing secret in the settings"
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    stamp = int(time.time())
    return post_json(url, raw, {TIMESTAMP_HEADER: str(stamp),
                                SIGNATURE_HEADER: sign(secret, stamp, raw)},
                     allow_private=services.crm.allow_private_hosts)


def _note(rule: AlertRule, facts: AlertFacts, reason: str) -> str:
    was = f" (was {facts.value_30d:.1f}, {facts.tier_30d})" if facts.value_30d is not None \
        else ""
    return (f"Customer Value alert: {rule.label}.\n{facts.name}: {reason}. "
            f"Value now {facts.value:.1f} ({facts.tier}){was}.")
