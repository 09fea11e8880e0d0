"""Spend from a CRM: the customer's won and lost deals, found by email, added to the history.

The settings' `spend_source` names the CRM (`sell` or `bitrix24`; `fields` needs none). A
`CrmSource` answers "which contacts have this email, and what are their decided deals"; the
live clients, the dataset folder's CRM files and test fakes all do.

The rules, decided here once:
- **Whose deals.** `plugin.core.spend` decides (identity by email, none for several
  contacts on one email).
- **Isolation.** A CRM that is down, rate limiting or refusing the credentials gives the
  Zendesk-only value with a notice saying so; it never fails the sidebar or the tagging.
- **Caching.** Answers are kept per account, CRM and email for ANSWER_SECONDS (deals change far
  less often than tickets, and Bitrix24 allows about two requests a second); failures for
  FAILURE_SECONDS.
- **Failing fast on the web.** A lookup made while an agent waits (`mode="web"`) uses short
  timeouts (WEB_TIMEOUT), makes at most one quick retry of a fast failure (WEB_RETRY), and
  never sleeps on a rate limit: Bitrix24's QUERY_LIMIT_EXCEEDED or Sell's 429 answer at once
  with "rate limiting". After a CRM is found down, rate limiting or refusing the credentials,
  no lookup of that account asks it again for FAILURE_SECONDS (whatever the customer), so an
  outage costs one slow request per half minute, not one per customer. Background work (the
  tagging jobs, `sync`, `backfill`, the command line) uses patient clients that wait out rate
  limits; failures and outages are remembered per mode, so what a web lookup met never stands
  in for a patient lookup's answer.
- **Degraded values.** A value computed without the CRM spend it should have (the CRM failed
  and no synced deals stood in) carries `crm_degraded`; the tagger retries later rather than
  tag on it.
- **Stored deals.** After `customer-value sync` the history store holds the CRM's contacts and
  decided deals (`HistoryStore.history(user_id, settings)` attaches them by the same rules).
  A live lookup that answers replaces them (it is fresher); one that fails falls back to them,
  with a notice saying so.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Protocol

from integrations.bitrix24 import Bitrix24Client, Bitrix24Config
from integrations.errors import (
    AuthFailed,
    BadResponse,
    IntegrationError,
    NotFound,
    RateLimited,
    Unavailable,
)
from integrations.hosts import check_public_url
from integrations.http import CONNECT_TIMEOUT, RetryPolicy
from integrations.sell import DEFAULT_BASE_URL, SellClient, SellConfig
from plugin.core.domain import CRM_NAMES, CrmContact, CustomerHistory
from plugin.core.settings import Settings
from plugin.core.spend import CrmSource, attach, lookup_email, no_email_notice, noticed

ANSWER_SECONDS = 600.0
FAILURE_SECONDS = 30.0
MAX_ANSWERS = 20_000
READ_TIMEOUT = 30.0
"""A background lookup's patience with a slow CRM."""
WEB_TIMEOUT = (2.0, 4.0)
"""Connect and read timeouts of a lookup made while an agent waits: a CRM slower than this is
treated as down, and the sidebar shows the value without it."""
WEB_RETRY = RetryPolicy(attempts=2, backoff_base=0.05, retry_timeouts=False)
"""One more try, within a tenth of a second, of a request that failed fast (a 5xx, a dropped
connection); none after a timeout."""
MODES = ("web", "background")
OUTAGES = (Unavailable, RateLimited, AuthFailed, NotFound, BadResponse)
"""Failures that concern the whole CRM account, not one customer: remembered per account (a
wrong base URL answers "not found" or something unreadable to every lookup alike)."""
ENV_VARIABLES = ("SELL_BASE_URL", "SELL_ACCESS_TOKEN", "BITRIX24_WEBHOOK_URL")

SecretReader = Callable[[str], "str | None"]
"""An account's secret by name (`sell_token`, `bitrix24_webhook_url`), or None if unset."""


def failure_notice(source: str, error: IntegrationError, stored: str | None = None) -> str:
    """What the agent reads when the CRM could not be asked (never the error's own text,
    which may name a URL with a secret in it). `stored`: when the deals used instead were
    synced, if there are any."""
    if isinstance(error, NotConfigured):
        problem = f"{source} is not configured"
        left_out = "left out until an admin sets its credentials"
    elif isinstance(error, AuthFailed):
        problem = f"{source} refused the app's credentials"
        left_out = "left out until an admin updates them"
    elif isinstance(error, RateLimited):
        problem, left_out = f"{source} is rate limiting", "left out for now"
    elif isinstance(error, BadResponse):
        problem = f"{source} sent an answer the app cannot read"
        left_out = "left out for now"
    elif isinstance(error, NotFound):
        problem = f"{source} answered \"not found\" (check its address)"
        left_out = "left out until an admin corrects it"
    else:
        problem, left_out = f"{source} is unavailable", "left out for now"
    if stored is not None:
        return f"{problem}; spend from {source} as synced at {stored}"
    return f"{problem}; spend from {source} is {left_out}"


class StoredDeals(Protocol):
    """The CRM's contacts and deals as last synced into the history store."""

    name: str
    synced_at: str
    """When, as the agent reads it."""

    def contacts(self, email: str) -> list[CrmContact]: ...


def with_crm(history: CustomerHistory, source: CrmSource | None, settings: Settings, *,
             cache: CrmCache | None = None, account: object = "",
             stored: StoredDeals | None = None, mode: str = "web",
             credential: str = "") -> CustomerHistory:
    """The history with its CRM purchases (or a notice); unchanged when spend comes from
    fields. When `source` fails, the `stored` deals (if any) are used, with a notice; without
    them the history is marked `crm_degraded` (unless the CRM is simply not configured: then
    the Zendesk-only value stands, with its notice). A failure is cached for lookups of the same
    `mode` only; answers are cached by `credential` (a fingerprint) too, so new credentials
    never see the old ones' answers. Never raises an integration error."""
    if source is None or settings.spend_source not in CRM_NAMES:
        return history
    email = lookup_email(history.profile, settings)
    if not email:
        return noticed(history, no_email_notice(source.name))
    try:
        if cache is None:
            contacts = source.contacts(email)
        else:
            contacts = cache.get((account, source.name, credential, email),
                                 lambda: source.contacts(email), mode=mode)
    except IntegrationError as error:
        if stored is None:
            # Not configured is a standing choice, not an outage: waiting would not change
            # the answer, so the Zendesk-only value (with its notice) is the value.
            return replace(noticed(history, failure_notice(source.name, error)),
                           crm_degraded=not isinstance(error, NotConfigured))
        return attach(noticed(history, failure_notice(source.name, error, stored.synced_at)),
                      stored.contacts(email), source.name, email)
    return attach(history, contacts, source.name, email)


def fingerprint(credential: str) -> str:
    """A short digest naming a credential in cache keys (never the credential itself)."""
    return hashlib.sha256(credential.encode()).hexdigest()[:16] if credential else ""


class CrmCache:
    """CRM answers by key, each kept for `answer_seconds` (a failure for `failure_seconds`);
    the least recently used go first beyond `max_entries`. Thread-safe.

    An answer serves every mode; a failure only lookups of the mode that met it: a web
    lookup's instant "rate limiting" must not stand for a patient job's answer."""

    def __init__(self, *, answer_seconds: float = ANSWER_SECONDS,
                 failure_seconds: float = FAILURE_SECONDS, max_entries: int = MAX_ANSWERS,
                 clock: Callable[[], float] = time.monotonic):
        self.answer_seconds = answer_seconds
        self.failure_seconds = failure_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, tuple[object, float]] = OrderedDict()

    def get(self, key: tuple, fetch: Callable[[], list[CrmContact]], *,
            mode: str = "web") -> list[CrmContact]:
        """The cached answer, else `fetch()`'s (an IntegrationError is kept, for `mode`, and
        raised)."""
        failed = (*key, "failed", mode)
        with self._lock:
            answer = None
            for where in (key, failed):
                entry = self._entries.get(where)
                if entry is not None and self.clock() < entry[1]:
                    self._entries.move_to_end(where)
                    answer = entry[0]
                    break
        if answer is None:
            try:
                answer = fetch()
                where, expires = key, self.clock() + self.answer_seconds
            except IntegrationError as error:
                answer, where = error, failed
                expires = self.clock() + self.failure_seconds
            with self._lock:
                self._entries[where] = (answer, expires)
                self._entries.move_to_end(where)
                if where == key:
                    self._entries.pop(failed, None)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        if isinstance(answer, IntegrationError):
            raise answer
        return answer  # type: ignore[return-value]

    def forget(self, account: object) -> None:
        """Drop every entry of `account` (keys start with it)."""
        with self._lock:
            for key in [k for k in self._entries if k and k[0] == account]:
                del self._entries[key]


@dataclass(frozen=True)
class CrmEnv:
    """CRM credentials for a single-account set-up, from the environment: used for that one
    account (the one the ZENDESK_* variables name) when it has none saved in the settings
    page, never for installations registered with `customer-value install`: another account
    must not see this account's deals. `repr` never shows them."""

    sell_base_url: str = DEFAULT_BASE_URL
    sell_token: str = field(default="", repr=False)
    bitrix24_webhook_url: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CrmEnv:
        env = os.environ if env is None else env
        return cls(sell_base_url=env.get("SELL_BASE_URL", "").strip() or DEFAULT_BASE_URL,
                   sell_token=env.get("SELL_ACCESS_TOKEN", "").strip(),
                   bitrix24_webhook_url=env.get("BITRIX24_WEBHOOK_URL", "").strip())


class NotConfigured(AuthFailed):
    """The settings name a CRM but no (valid) credentials for it are set."""


class _Unconfigured:
    """The CRM the settings name, without credentials: every lookup says so."""

    def __init__(self, name: str, missing: str):
        self.name = name
        self.missing = missing

    def contacts(self, email: str) -> list[CrmContact]:
        raise NotConfigured(f"no {self.missing} is set", service=self.name)


class Outages:
    """CRM accounts found down (or refusing, or rate limiting) recently: for FAILURE_SECONDS
    after such a failure every lookup of that account fails at once with the same error,
    without a request. Thread-safe."""

    def __init__(self, seconds: float = FAILURE_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._until: dict[tuple, tuple[IntegrationError, float]] = {}

    def guard(self, key: tuple, source: CrmSource) -> CrmSource:
        return _Guarded(source, self, key)

    def check(self, key: tuple) -> None:
        with self._lock:
            found = self._until.get(key)
        if found is not None and self.clock() < found[1]:
            raise found[0]

    def forget(self, account: object) -> None:
        """Drop every outage of `account` (keys start with it)."""
        with self._lock:
            for key in [k for k in self._until if k and k[0] == account]:
                del self._until[key]

    def failed(self, key: tuple, error: IntegrationError) -> None:
        if isinstance(error, OUTAGES):
            with self._lock:
                self._until[key] = (error, self.clock() + self.seconds)


class _Guarded:
    def __init__(self, source: CrmSource, outages: Outages, key: tuple):
        self.name = source.name
        self._source, self._outages, self._key = source, outages, key

    def contacts(self, email: str) -> list[CrmContact]:
        self._outages.check(self._key)
        try:
            return self._source.contacts(email)
        except IntegrationError as error:
            self._outages.failed(self._key, error)
            raise


@dataclass
class CrmConnector:
    """The CRM clients of every account, built once per credential, and their answers'
    cache. Built by the app's services; the command line builds its own."""

    env: CrmEnv = field(default_factory=CrmEnv.from_env)
    cache: CrmCache = field(default_factory=CrmCache)
    outages: Outages = field(default_factory=Outages)
    allow_private_hosts: bool = False
    """Let a webhook URL saved in the settings page name a private host or use http (the
    app's CRM_ALLOW_PRIVATE_HOSTS: the sandbox, tests). Without it such a URL is checked by
    `integrations.hosts` before every request. The environment's URL, set by the operator,
    is trusted as it is."""
    web_timeout: tuple[float, float] = WEB_TIMEOUT
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)
    sleep: Callable[[float], None] = time.sleep
    _clients: dict[tuple[str, str, str], CrmSource] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def history(self, history: CustomerHistory, settings: Settings, *, account: object = "",
                secrets: SecretReader = lambda name: None, mode: str = "web",
                stored: StoredDeals | None = None,
                env_credentials: bool = True) -> CustomerHistory:
        """`with_crm` through this connector's clients (of `mode`), cache and outages.
        `env_credentials`: whether `account` is the single-account set-up's own account (the
        environment's CRM credentials may stand in for saved ones)."""
        kind = settings.spend_source
        if kind not in CRM_NAMES:
            return history
        credential, saved = self.credential(kind, secrets, env_credentials=env_credentials)
        digest = fingerprint(credential)
        source = self.outages.guard((account, kind, mode, digest),
                                    self._source(kind, credential, saved, mode))
        return with_crm(history, source, settings, cache=self.cache, account=account,
                        stored=stored, mode=mode, credential=digest)

    def credential(self, kind: str, secrets: SecretReader, *,
                   env_credentials: bool = True) -> tuple[str, bool]:
        """The credential of the CRM `kind` ("" for none) and whether it is the account's
        saved one (else the env's, only with `env_credentials`: for the single-account
        set-up's own account)."""
        saved = secrets("sell_token" if kind == "sell" else "bitrix24_webhook_url") or ""
        if saved or not env_credentials:
            return saved, bool(saved)
        return (self.env.sell_token if kind == "sell" else self.env.bitrix24_webhook_url), False

    def forget(self, account: object, credentials: list[str] = ()) -> None:
        """After the account's CRM credentials changed: drop its cached answers, failures and
        outages, and close the clients built for the old `credentials`."""
        self.cache.forget(account)
        self.outages.forget(account)
        prints = {hashlib.sha256(c.encode()).hexdigest() for c in credentials if c}
        with self._lock:
            stale = [key for key in self._clients if key[1] in prints]
            clients = [self._clients.pop(key) for key in stale]
        for client in clients:
            close = getattr(client, "close", None)
            if close is not None:
                close()

    def source(self, kind: str, secrets: SecretReader, *, mode: str = "web",
               env_credentials: bool = True) -> CrmSource:
        """The client of the CRM `kind` with the account's credentials, else (with
        `env_credentials`, for the single-account set-up's own account only) the env's: one
        failing fast (`web`, for requests an agent waits on) or a patient one (`background`:
        jobs, sync, backfill, the command line)."""
        return self._source(kind, *self.credential(kind, secrets,
                                                   env_credentials=env_credentials), mode)

    def _source(self, kind: str, credential: str, saved: bool, mode: str) -> CrmSource:
        if mode not in MODES:
            raise ValueError(f"unknown CRM client mode {mode!r}")
        options: dict = ({"mode": "web", "timeout": self.web_timeout, "policy": WEB_RETRY}
                         if mode == "web" else {"mode": "background", "timeout": self.timeout})
        options["sleep"] = self.sleep
        if kind == "sell":
            token = credential
            if not token:
                return _Unconfigured(CRM_NAMES[kind], "Zendesk Sell access token")
            return self._client(kind, token, mode, lambda: SellClient.connect(
                SellConfig(token=token, base_url=self.env.sell_base_url), **options))
        url = credential
        if saved:
            options["check_url"] = partial(check_public_url,
                                           allow_private=self.allow_private_hosts)
        if not url:
            return _Unconfigured(CRM_NAMES["bitrix24"], "Bitrix24 inbound webhook URL")
        try:
            config = Bitrix24Config(webhook_url=url)
            config.secret  # noqa: B018 - checks the URL's shape before any request
        except ValueError:
            return _Unconfigured(CRM_NAMES["bitrix24"], "valid Bitrix24 inbound webhook URL")
        return self._client(kind, url, mode, lambda: Bitrix24Client.connect(config, **options),
                            checked=saved)

    def _client(self, kind: str, credential: str, mode: str,
                build: Callable[[], CrmSource], *, checked: bool = False) -> CrmSource:
        key = (kind, hashlib.sha256(credential.encode()).hexdigest(), mode, checked)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = build()
            return self._clients[key]

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                close = getattr(client, "close", None)
                if close is not None:
                    close()
            self._clients.clear()
