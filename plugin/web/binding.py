"""What an agent's session was loaded for, and how often it may force a refresh.

Zendesk's signed load names the agent, not the ticket, so a session is bound on its first use:
the first customer it asks about (with the ticket, when the call names one) is the only one it
may read, and a call about any other is a 403. A refresh that bypasses the cache (one Zendesk
request) is allowed once per `REFRESH_EVERY` per session; sooner is a 429 with Retry-After.

A binding has a `kind` and ids by name, so other sidebars bind their own subject the same way
(a user sidebar to its user, an organization sidebar to its organization) with one `Binding`
each. Bindings are kept per process, bounded, least recently used first out; a session token
lives 15 minutes.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType

from flask import abort, current_app, request

from plugin.web.auth import bearer_token

REFRESH_EVERY = timedelta(seconds=10)
MAX_SESSIONS = 8192


@dataclass(frozen=True)
class Binding:
    """A session's subject: `kind` (ticket, user, organization) and its ids by name; an id of
    None is not bound yet and is taken from the first call that names it."""

    kind: str
    ids: Mapping[str, int | None]

    def admits(self, other: Binding) -> bool:
        return other.kind == self.kind and all(
            self.ids.get(name) in (None, value) or value is None
            for name, value in other.ids.items())

    def merged(self, other: Binding) -> Binding:
        ids = {**{k: v for k, v in other.ids.items() if v is not None},
               **{k: v for k, v in self.ids.items() if v is not None}}
        return Binding(self.kind, MappingProxyType(ids))


def ticket_binding(customer: int, ticket: int | None) -> Binding:
    return Binding("ticket", MappingProxyType({"customer": customer, "ticket": ticket}))


def organization_binding(organization: int) -> Binding:
    return Binding("organization", MappingProxyType({"organization": organization}))


@dataclass
class _Entry:
    binding: Binding
    refreshed_at: datetime | None = None


class SessionBindings:
    """Every live session's binding and last refresh, keyed by a digest of its token."""

    def __init__(self, refresh_every: timedelta = REFRESH_EVERY,
                 max_sessions: int = MAX_SESSIONS) -> None:
        self.refresh_every = refresh_every
        self.max_sessions = max_sessions
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def bind(self, token: str, wanted: Binding) -> bool:
        """Bind the session to `wanted` on first use; whether `wanted` is what it is bound to."""
        key = _key(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = _Entry(wanted)
                while len(self._entries) > self.max_sessions:
                    self._entries.popitem(last=False)
                return True
            self._entries.move_to_end(key)
            bound = entry.binding
            if bound == wanted:  # a page's repeated call: nothing to check or to add
                return True
            if not bound.admits(wanted):
                return False
            entry.binding = bound.merged(wanted)
            return True

    def refresh_wait(self, token: str, now: datetime) -> float | None:
        """None if the session may refresh now (and it counts as done); else seconds to wait."""
        with self._lock:
            entry = self._entries.get(_key(token))
            if entry is None:
                return None
            last = entry.refreshed_at
            if last is not None and timedelta(0) <= now - last < self.refresh_every:
                return (self.refresh_every - (now - last)).total_seconds()
            entry.refreshed_at = now
            return None


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _bindings() -> SessionBindings:
    return current_app.extensions.setdefault("customer_value_bindings", SessionBindings())


def require(token: str, wanted: Binding) -> None:
    """A 403 unless the session of `token` is (or now becomes) bound to `wanted`."""
    if not _bindings().bind(token, wanted):
        abort(403, f"this session was opened for another {wanted.kind}'s customer; reload "
                   "the app for this one")


def allow_refresh(token: str, now: datetime) -> None:
    """A 429 with Retry-After when the session refreshed less than REFRESH_EVERY ago."""
    wait = _bindings().refresh_wait(token, now)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        response = current_app.make_response(({"error": {
            "code": "too_many_refreshes", "retry_after": seconds,
            "message": f"this session refreshed just now; try again in {seconds} s"}}, 429))
        response.headers["Retry-After"] = str(seconds)
        abort(response)


def session_token() -> str:
    """The request's session token (the caller has checked the session already)."""
    return bearer_token(request.headers.get("Authorization"))
