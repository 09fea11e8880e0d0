"""Setting up a new Zendesk account from the app itself: the first signed load from an account
the server does not know starts it; an admin connects the account with Zendesk's OAuth
authorization-code flow (the operator's global OAuth client) or, where the operator allows
it, an API token typed once; then the first sync starts on the queue.

Either way Zendesk itself says the connecting user is an admin (`GET /api/v2/users/me` with
the new credentials): nothing a browser sends is taken for a role. Tokens are sealed at rest
by the registry's vault. A refused OAuth token is refreshed once, by every Zendesk client of
the account (`TokenRenewal`, the transport's `renew` hook: the sidebar, the syncs, tagging,
alerts); a refused refresh marks the account "reconnect", and nothing calls Zendesk for it
again until an admin connects anew.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from integrations.errors import AuthFailed
from integrations.oauth import BearerAuth, OAuthClient, ZendeskOAuth
from integrations.zendesk import ZendeskClient, ZendeskConfig
from plugin.storage.installations import Installation, Registry
from plugin.storage.setups import PendingSetup, SetupStates

log = logging.getLogger(__name__)

ADMIN = "admin"
CALLBACK_PATH = "/setup/oauth/callback"
STREAM_COUNT = 5
"""organizations, users, tickets, satisfaction ratings, survey responses."""


class SetupRefused(Exception):
    """The set-up cannot go on; the message says why, in words for the admin."""


@dataclass(frozen=True)
class SetupOptions:
    """How the operator lets accounts connect (README: the set-up variables)."""

    oauth: OAuthClient | None
    public_url: str
    token_entry: bool
    base_url: str = ""
    """Every new account's Zendesk at one address (a sandbox: SETUP_BASE_URL, else
    ZENDESK_BASE_URL); else https://{subdomain}.zendesk.com."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SetupOptions:
        client_id = str(config.get("ZENDESK_OAUTH_CLIENT_ID") or "").strip()
        secret = str(config.get("ZENDESK_OAUTH_CLIENT_SECRET") or "").strip()
        return cls(oauth=OAuthClient(client_id, secret) if client_id and secret else None,
                   public_url=str(config.get("PUBLIC_URL") or "").rstrip("/"),
                   token_entry=bool(config.get("SETUP_TOKEN_ENTRY")),
                   base_url=str(config.get("SETUP_BASE_URL") or config.get("ZENDESK_BASE_URL")
                                or "").rstrip("/"))

    def account_url(self, subdomain: str) -> str:
        return self.base_url or f"https://{subdomain}.zendesk.com"

    def oauth_for(self, subdomain: str, public_url: str) -> ZendeskOAuth:
        if self.oauth is None:
            raise SetupRefused("connecting with Zendesk is not configured on this server")
        return ZendeskOAuth(self.account_url(subdomain), self.oauth,
                            (self.public_url or public_url.rstrip("/")) + CALLBACK_PATH)


def begin_oauth(options: SetupOptions, states: SetupStates, pending: PendingSetup, *,
                session_key: str, public_url: str, now: datetime) -> str:
    """Where to send the admin: the account's authorization page, with a fresh state bound to
    this session."""
    oauth = options.oauth_for(pending.subdomain, public_url)
    state = secrets.token_urlsafe(32)
    states.create(state, pending, session_key=session_key, now=now)
    return oauth.authorize_url(state)


def finish_oauth(options: SetupOptions, states: SetupStates, registry: Registry,
                 connect: Callable[[ZendeskConfig], ZendeskClient], *, state: str, code: str,
                 session_key: str, public_url: str, now: datetime) -> Installation:
    """Spend the state, exchange the code, check with Zendesk that an admin granted it, and
    save the installation (tokens sealed)."""
    pending = states.take(state, session_key=session_key, now=now)
    oauth = options.oauth_for(pending.subdomain, public_url)
    grant = oauth.exchange(code)
    config = ZendeskConfig(options.account_url(pending.subdomain), "", grant.access_token,
                           kind="oauth")
    _, email, role = connect(config).me()
    if role != ADMIN:
        oauth.revoke(grant.access_token)
        raise SetupRefused("only a Zendesk admin can connect the account; ask one to finish "
                           "set-up")
    installation = Installation(
        subdomain=pending.subdomain, base_url=config.base_url, app_id=pending.app_id,
        installation_id=pending.installation_id, email=email, token=grant.access_token,
        auth_kind="oauth", refresh_token=grant.refresh_token)
    registry.save(installation, now)
    return installation


def connect_with_token(options: SetupOptions, registry: Registry,
                       connect: Callable[[ZendeskConfig], ZendeskClient], pending: PendingSetup,
                       *, email: str, token: str, now: datetime) -> Installation:
    """The operator's other way: an admin's API token, typed once on the set-up page."""
    if not options.token_entry:
        raise SetupRefused("this server connects accounts with Zendesk sign-in only")
    email, token = email.strip(), token.strip()
    if not email or "@" not in email or not token or len(token) > 200 or len(email) > 254:
        raise SetupRefused("enter the admin's email and an API token")
    config = ZendeskConfig(options.account_url(pending.subdomain), email, token)
    try:
        _, _, role = connect(config).me()
    except AuthFailed:
        raise SetupRefused("Zendesk did not accept this email and API token") from None
    if role != ADMIN:
        raise SetupRefused("the API token must belong to a Zendesk admin")
    installation = Installation(
        subdomain=pending.subdomain, base_url=config.base_url, app_id=pending.app_id,
        installation_id=pending.installation_id, email=email, token=token)
    registry.save(installation, now)
    return installation


def refresh_or_reconnect(options: SetupOptions, registry: Registry, installation: Installation,
                         *, now: datetime) -> Installation | None:
    """After Zendesk refused an OAuth access token: the installation with fresh tokens, or
    None once the refresh is refused too (then it is marked "reconnect"). A refusal after
    another process refreshed first (the refresh token it held was spent) takes that one's
    tokens instead."""
    if installation.auth_kind != "oauth" or installation.needs_reconnect:
        return None
    try:
        if not installation.refresh_token:
            raise AuthFailed("no refresh token")
        # The refresh grant takes no redirect address; the client is what matters.
        grant = options.oauth_for(installation.subdomain, "").refresh(
            installation.refresh_token)
    except (AuthFailed, SetupRefused):
        current = registry.get(installation.subdomain)
        if current is not None and not current.needs_reconnect and \
                current.token != installation.token:
            return current
        registry.mark_reconnect(installation.subdomain, now)
        log.warning("Zendesk refused the OAuth tokens of %s and their refresh; the account "
                    "waits for an admin to reconnect it", installation.subdomain)
        return None
    fresh = Installation(**{**installation.__dict__, "token": grant.access_token,
                            "refresh_token": grant.refresh_token or installation.refresh_token})
    registry.save(fresh, now)
    return fresh


class TokenRenewal:
    """The `renew` hook of every Zendesk client of an OAuth installation: for the refused
    credentials, the installation's current ones when they differ (another client refreshed,
    or an admin reconnected), else one refresh; None when the account must be reconnected.
    One renewal at a time per process, so two clients refused at once spend the refresh
    token once."""

    def __init__(self, registry: Registry, options: SetupOptions,
                 clock: Callable[[], datetime]):
        self.registry = registry
        self.options = options
        self.clock = clock
        self._lock = threading.Lock()

    def hook(self, config: ZendeskConfig) -> Callable[[Any], BearerAuth | None] | None:
        """The hook for a client of `config`; None for API tokens (nothing to renew) and for
        tokens that are not the installation's (a grant being checked before it is saved is
        judged on its own, never on the tokens it would replace)."""
        if config.kind != "oauth":
            return None
        installation = self.registry.by_base_url(config.base_url)
        if installation is None or installation.token != config.token:
            return None
        return lambda refused: self.renewed(config.base_url, refused)

    def renewed(self, base_url: str, refused: Any) -> BearerAuth | None:
        with self._lock:
            installation = self.registry.by_base_url(base_url)
            if installation is None or installation.auth_kind != "oauth" or \
                    installation.needs_reconnect:
                return None
            if BearerAuth(installation.token) != refused:
                return BearerAuth(installation.token)
            fresh = refresh_or_reconnect(self.options, self.registry, installation,
                                         now=self.clock())
            return BearerAuth(fresh.token) if fresh is not None else None


def start_first_sync(queue: Any, account_key: str) -> None:
    """Queue the account's first sync (a per-account job on huey; resumable like every sync)."""
    queue.first_sync(account_key)


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    done: bool
    detail: str


def checklist(installation: Installation | None, counts: Mapping[str, int], streams_done: int,
              *, tagging: bool, webhook: bool, fields: FieldsState | None = None
              ) -> list[ChecklistItem]:
    """What the set-up page shows at its end: connected, the first sync (with progress),
    when tagging is on the webhook and trigger, and when writing values is on (`tag_user`)
    the user and organization fields they are written into (`fields`: None when off)."""
    connected = installation is not None and not installation.needs_reconnect
    how = "" if installation is None else (
        "with Zendesk sign-in" if installation.auth_kind == "oauth" else "with an API token")
    items = [
        ChecklistItem("connected", connected, how),
        ChecklistItem("first_sync", streams_done >= STREAM_COUNT,
                      f"{streams_done} of {STREAM_COUNT} streams; {counts.get('users', 0):,} "
                      f"users, {counts.get('tickets', 0):,} tickets"),
    ]
    if tagging:
        items.append(ChecklistItem("webhook", webhook, ""))
    if fields is not None:
        items.append(ChecklistItem("fields", fields.done, fields.detail))
    return items


@dataclass(frozen=True)
class FieldsState:
    """The fields the app writes values into: which are missing, or that Zendesk could not
    be asked."""

    wanted: tuple[str, ...]
    missing: tuple[str, ...] = ()
    unknown: bool = False

    @property
    def done(self) -> bool:
        return not self.unknown and not self.missing

    @property
    def detail(self) -> str:
        if self.unknown:
            return "Zendesk could not be asked; checked again shortly"
        if self.missing:
            return "missing: " + ", ".join(self.missing)
        return f"{', '.join(self.wanted)} on users and organizations"
