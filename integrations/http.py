"""HTTP with the manners an outside API needs: timeouts, retries, rate limits, typed errors.

`Transport` sends JSON requests through a `requests.Session` (passed in, so tests fake the
HTTP layer with `responses`) and turns every failure into an `integrations.errors` error.
Whether to wait and try again is decided by `retry_delay`, a pure function.

Two modes:
- `web`: never sleeps on a 429; raises `RateLimited(retry_after)` at once, so a web worker
  is never blocked and the page can show "rate limited, retry after N s".
- `background`: waits out 429s (honouring Retry-After) while the wait budget lasts.
Both retry 5xx answers, timeouts and dropped connections a few times with jittered backoff.

A `RetryPolicy` bounds that: how many tries, how long the backoff, and whether a timed-out
request is tried again. The default suits background work; a caller on a web request (the CRM
lookups of the sidebar) passes a tighter one: one quick retry of a fast failure, never another
wait after a timeout.

Credentials that can be renewed (an OAuth access token) come with a `renew` hook: a 401
asks it once for other credentials and the request is sent again with them; when it has none
(the refresh was refused too), the request fails with AuthFailed and the transport sends
nothing more until the hook gives credentials again (an admin connected the account anew).

Redirects are never followed: a 3xx answer is an error naming its status, so an address vetted
before the request (`check_url`) is the only one the request can reach. When `check_url`
returns the address it vetted, the connection goes to that address (`PinnedAdapter`), with the
host name kept for TLS (SNI and the certificate's name) and for the Host header.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from integrations.errors import (
    AuthFailed,
    BadResponse,
    Conflict,
    IntegrationError,
    NotFound,
    RateLimited,
    Unavailable,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.5
BACKOFF_CAP = 20.0
DEFAULT_RETRY_AFTER = 60.0
"""Zendesk sends Retry-After with every 429; this is the wait when a proxy strips it."""
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})

Observer = Callable[[str, str, "int | None", float], None]
"""Told of every request sent: service, method, status (None: no answer), seconds taken."""
_observers: list[Observer] = []
_waits: list[Callable[[str, float], None]] = []


def observe(on_request: Observer, on_wait: Callable[[str, float], None]) -> None:
    """Register callbacks for every request any Transport sends and every wait it makes
    (a 429's Retry-After or a backoff): how the app counts its calls for its metrics."""
    if on_request not in _observers:
        _observers.append(on_request)
    if on_wait not in _waits:
        _waits.append(on_wait)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a transport tries: at most `attempts` tries, backing off from `backoff_base`
    seconds, and (with `retry_timeouts` False) no second try after a request timed out."""

    attempts: int = MAX_ATTEMPTS
    backoff_base: float = BACKOFF_BASE
    retry_timeouts: bool = True


PATIENT = RetryPolicy()


def retry_delay(attempt: int, status: int | None, retry_after: float | None, *,
                mode: str, waited: float, budget: float, rng: random.Random,
                policy: RetryPolicy = PATIENT) -> float | None:
    """Seconds to wait before another try, or None to give up.

    `attempt` counts tries made so far (1 after the first); `status` is the HTTP status or
    None for a timeout or dropped connection. 5xx and network failures back off with "full
    jitter" — a uniform draw from 0 to min(cap, base·2^attempt) (Brooker, "Exponential Backoff
    And Jitter", AWS Architecture Blog, 2015) — up to the policy's attempts (MAX_ATTEMPTS by
    default). A 429 waits exactly what the server asked, in background mode only, while the
    budget lasts.
    """
    if status == 429:
        wait = DEFAULT_RETRY_AFTER if retry_after is None else max(retry_after, 0.0)
        if mode != "background" or waited + wait > budget:
            return None
        return wait
    if status is not None and status not in RETRYABLE_STATUS:
        return None
    if attempt >= policy.attempts:
        return None
    return rng.uniform(0, min(BACKOFF_CAP, policy.backoff_base * 2 ** attempt))


@dataclass
class Transport:
    """JSON over HTTP to one base URL with one set of credentials."""

    base_url: str = field(repr=False)
    """May hold a secret (a Bitrix24 webhook's key): never shown by `repr`."""
    session: requests.Session
    auth: tuple[str, str] | requests.auth.AuthBase | None = field(default=None, repr=False)
    mode: str = "web"
    wait_budget: float = 300.0
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)
    service: str = "Zendesk"
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    calls: Counter[str] = field(default_factory=Counter)
    """Requests sent, by method and path (without query): what a run cost."""
    throttled: Callable[[requests.Response], float | None] | None = None
    """A service's own way of saying "slow down" other than a 429 (Bitrix24 answers 503 with
    QUERY_LIMIT_EXCEEDED): seconds to wait, or None. Such answers are handled as 429s."""
    redact: str = field(default="", repr=False)
    """A secret inside the base URL (a webhook's key), masked in logs, call counts and errors."""
    policy: RetryPolicy = PATIENT
    error_of: Callable[[requests.Response], IntegrationError | None] | None = None
    """A service's own reading of a failed answer (Bitrix24 names its errors in the body
    whatever the status): the error to raise, or None for the generic one by status."""
    check_url: Callable[[str], str | None] | None = None
    """Called with every URL before it is requested (a typed-in address must stay public:
    `integrations.hosts`); a ValueError it raises refuses the request as AuthFailed. The
    address it returns, if any, is the one connected to (the name is not resolved again)."""
    renew: Callable[[Any], Any] | None = field(default=None, repr=False)
    """Called with the refused `auth` after a 401: the credentials to send instead, or None
    when there are none (the account must be connected again)."""
    _pins: PinnedAdapter | None = field(default=None, init=False, repr=False)
    _halted: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.mode not in ("web", "background"):
            raise ValueError(f"unknown transport mode {self.mode!r}")
        self.base_url = self.base_url.rstrip("/") + "/"
        if self.check_url is not None:
            self._pins = PinnedAdapter()
            self.session.trust_env = False  # no proxy from the environment between check and host
            for scheme in ("https://", "http://"):
                self.session.mount(scheme, self._pins)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def url(self, path_or_url: str) -> str:
        return urljoin(self.base_url, path_or_url.lstrip("/"))

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self.request("GET", path, params=params)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, files: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send one request, retrying as `retry_delay` decides; the decoded JSON body.
        `files`: a multipart upload (requests' `files` form) instead of a JSON body."""
        url = self.url(path)
        if self.check_url is not None and self._pins is not None:
            try:
                address = self.check_url(url)
            except ValueError as error:
                raise AuthFailed(f"{self.service} address refused: {error}",
                                 service=self.service) from None
            self._pins.pin(url, address)
        if self._halted:
            self._renew()  # the credentials were refused for good: ask before sending
        attempt, waited, renewed = 0, 0.0, False
        while True:
            attempt += 1
            status, retry_after, response, timed_out = self._send(method, url, params, json,
                                                                  files)
            if status == 401 and self.renew is not None and not renewed:
                renewed = True
                self._renew()
                attempt -= 1
                continue
            if response is not None and 300 <= status < 400:
                raise BadResponse(f"{self.service} answered {status} (a redirect) for "
                                  f"{self._where(url)}; redirects are not followed",
                                  service=self.service)
            if response is not None and status < 400:
                return _decode(response, self.service)
            if response is not None and self.throttled is not None:
                wait = self.throttled(response)
                if wait is not None:
                    status, retry_after = 429, wait
            delay = None if timed_out and not self.policy.retry_timeouts else retry_delay(
                attempt, status, retry_after, mode=self.mode, waited=waited,
                budget=self.wait_budget, rng=self.rng, policy=self.policy)
            if delay is None:
                raise self._failure(status, retry_after, response, url)
            log.info("%s %s answered %s; retrying in %.1f s", method, self._where(url),
                     status or "no response", delay)
            for on_wait in _waits:
                on_wait(self.service, delay)
            self.sleep(delay)
            waited += delay

    def _renew(self) -> None:
        """Take the credentials `renew` gives for the refused ones; AuthFailed (and nothing
        sent from then on) when it gives none."""
        fresh = self.renew(self.auth) if self.renew is not None else None
        if fresh is None:
            self._halted = True
            raise AuthFailed(f"{self.service} no longer accepts the app's access; the account "
                             "must be connected again", service=self.service, status=401)
        self.auth, self._halted = fresh, False

    def _send(self, method: str, url: str, params, body, files=None
              ) -> tuple[int | None, float | None, requests.Response | None, bool]:
        """Status, Retry-After, the response, and whether the request timed out."""
        self.calls[f"{method} {self._where(url)}"] += 1
        started = time.perf_counter()
        try:
            response = self.session.request(method, url, params=params, json=body,
                                            files=files, auth=self.auth,
                                            timeout=self.timeout, allow_redirects=False)
        except (requests.ConnectionError, requests.Timeout) as error:
            log.info("%s %s failed: %s", method, self._where(url), type(error).__name__)
            self._tell(method, None, started)
            return None, None, None, isinstance(error, requests.Timeout)
        except requests.RequestException as error:
            self._tell(method, None, started)
            # `from None`: requests' own error names the full URL, secret included.
            raise Unavailable(f"{self.service} request failed: {type(error).__name__}",
                              service=self.service) from None
        self._tell(method, response.status_code, started)
        return response.status_code, _retry_after(response), response, False

    def _tell(self, method: str, status: int | None, started: float) -> None:
        seconds = time.perf_counter() - started
        for on_request in _observers:
            on_request(self.service, method, status, seconds)

    def _failure(self, status: int | None, retry_after: float | None,
                 response: requests.Response | None, url: str) -> IntegrationError:
        service, where = self.service, self._where(url)
        if response is not None and self.error_of is not None:
            own = self.error_of(response)
            if own is not None:
                return own
        if status is None:
            return Unavailable(f"{service} did not answer ({where})", service=service)
        if status == 429:
            return RateLimited(DEFAULT_RETRY_AFTER if retry_after is None else retry_after,
                               service=service)
        if status in (401, 403):
            return AuthFailed(f"{service} rejected the credentials ({status})", service=service,
                              status=status)
        if status == 404:
            return NotFound(f"{service} has no {where}", service=service)
        if status == 409:
            return Conflict(f"{service} reports a conflicting update of {where}",
                            service=service)
        if status >= 500:
            return Unavailable(f"{service} is failing ({status} on {where})",
                               service=service)
        detail = _error_detail(response)
        return BadResponse(f"{service} refused the request ({status}): {detail}",
                           service=service)

    def _where(self, url: str) -> str:
        """The URL's path as logs and errors may show it (without the redacted secret)."""
        path = _path(url)
        return path.replace(self.redact, "***") if self.redact else path


class PinnedAdapter(HTTPAdapter):
    """requests' adapter connecting to a vetted address instead of resolving the host again.

    The urllib3 pool is opened for the pinned address with `server_hostname` (TLS SNI and the
    certificate check) and `assert_hostname` set to the URL's host, and the Host header names
    the host: to the server it is an ordinary request to its name. Hosts without a pin
    connect as usual.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pinned: dict[str, str] = {}

    def pin(self, url: str, address: str | None) -> None:
        """Connect to `address` for `url`'s host from now on (None: resolve the name)."""
        host = (urlsplit(url).hostname or "").lower()
        if address is None:
            self._pinned.pop(host, None)
        else:
            self._pinned[host] = address

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        host = (urlsplit(request.url).hostname or "").lower()
        address = self._pinned.get(host)
        if address is None:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(
            request, verify, cert)
        host_params["host"] = f"[{address}]" if ":" in address else address
        if host_params["scheme"] == "https":
            pool_kwargs = {**pool_kwargs, "server_hostname": host, "assert_hostname": host}
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)

    def add_headers(self, request, **kwargs) -> None:
        parts = urlsplit(request.url)
        if (parts.hostname or "").lower() in self._pinned:
            request.headers["Host"] = parts.netloc.rsplit("@", 1)[-1]


def _decode(response: requests.Response, service: str) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError as error:
        raise BadResponse(f"{service} answered with something other than JSON",
                          service=service) from error
    if not isinstance(body, dict):
        raise BadResponse(f"{service} answered with a JSON {type(body).__name__}, "
                          "not an object", service=service)
    return body


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_detail(response: requests.Response | None) -> str:
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        parts = [str(body.get(k)) for k in ("error", "description", "error_description",
                                            "details") if body.get(k)]
        return "; ".join(parts)[:300]
    return str(body)[:200]


def _path(url: str) -> str:
    return requests.utils.urlparse(url).path
