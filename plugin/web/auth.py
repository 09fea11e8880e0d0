"""Signed loading of the sidebar: verify Zendesk's ZAF JWT, then hand out the app's own token.

With ``"signedUrls": true`` in the manifest, Zendesk loads the app's first page with a POST whose
form field ``token`` is a JWT it signed with RS256. The page's later calls carry neither that
token nor (in a third-party iframe) dependable cookies, so the page gets a short-lived token of
the app's own, sent as ``Authorization: Bearer``. Relied on:

- "Building a server-side app - Part 5: Securing the app", https://developer.zendesk.com/documentation/apps/build-an-app/building-a-server-side-app/part-5-secure-the-app/
  (RS256; PyJWT with cryptography; ``aud`` is the installation's API URL).
- "Get App Public Key", https://developer.zendesk.com/api-reference/ticketing/apps/apps/#get-app-public-key
  (``GET /api/v2/apps/{app_id}/public_key.pem``: the app's RSA public key in PEM, anonymous).
- "JWT claims", https://developer.zendesk.com/documentation/apps/app-developer-guide/using-the-apps-framework/#jwt-claims
  (``iss`` ``{subdomain}.zendesk.com``, ``aud``, ``sub``, ``exp``, ``nbf``, ``iat``, ``qsh``,
  ``cnf.jku``, ``context``).

No Flask, no network (``fetch`` is injected), no clock (``now`` is an argument). The algorithm
is fixed here, never read from the token, and the unverified issuer is used only once it is
known to be a Zendesk subdomain: a forged token can neither pick the algorithm nor aim the key
fetch at another host.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from plugin.core.times import epoch_zulu

log = logging.getLogger(__name__)

ZENDESK_TOKEN_FORM_FIELD = "token"
ZENDESK_ALGORITHM = "RS256"
DEFAULT_LEEWAY = timedelta(seconds=30)
REQUIRED_ZENDESK_CLAIMS = ("iss", "aud", "sub", "exp")
REQUIRED_APP_CLAIMS = ("iss", "aud", "acc", "sub", "role", "exp")
PUBLIC_KEY_URL = "https://{subdomain}.zendesk.com/api/v2/apps/{app_id}/public_key.pem"
INSTALLATION_AUDIENCE = (
    "https://{subdomain}.zendesk.com/api/v2/apps/installations/{installation_id}.json")
DEFAULT_KEY_TTL = timedelta(hours=1)
KEY_RETRY_AFTER = timedelta(seconds=30)
"""How long a failed public-key fetch is remembered before another is tried."""
MIN_RSA_BITS = 2048
ZENDESK_ISSUER = re.compile(r"(?P<subdomain>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.zendesk\.com")
USER_ID_IN_SUB = re.compile(r"(?:^|/users/)(?P<id>\d+)(?:\.json)?$")
INSTALLATION_ID_IN_AUD = re.compile(r"/api/v2/apps/installations/(?P<id>\d+)\.json$")
APP_ID_IN_JKU = re.compile(r"/api/v2/apps/(?P<id>\d+)/public_key(?:\.pem)?$")

APP_TOKEN_ALGORITHM = "HS256"
APP_TOKEN_ISSUER = "customer-value"
APP_TOKEN_AUDIENCE = "customer-value/app-session"
DEFAULT_APP_TOKEN_TTL = timedelta(minutes=15)
MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as the SHA-256 output.
BEARER_SCHEME = "bearer"


class AuthError(Exception):
    """Any reason to refuse a request's credentials; the message says which, precisely."""


class MalformedToken(AuthError):
    """Not a JWT, or a claim has the wrong shape."""


class UnsignedToken(AuthError):
    """The header says ``alg: none``: a token anyone could have written."""


class WrongAlgorithm(AuthError):
    """Another algorithm than the expected one (e.g. HS256 keyed with the public key)."""


class BadSignature(AuthError):
    """The signature does not verify against the key: forged, tampered or another key's."""


class TokenExpired(AuthError):
    """``exp`` is further in the past than the leeway allows."""


class TokenNotYetValid(AuthError):
    """``nbf`` or ``iat`` is further in the future than the leeway allows."""


class WrongAudience(AuthError):
    """The token was issued for another app installation, or another use."""


class WrongIssuer(AuthError):
    """``iss`` is missing, not a Zendesk account, or not the account of the audience."""


class UnknownAccount(AuthError):
    """The issuer names an account this app does not serve."""


class MissingClaims(AuthError):
    """A required claim is absent."""


class KeyUnavailable(AuthError):
    """Zendesk's public key could not be fetched (the page answers 503: try again)."""


class PublicKeyRejected(AuthError):
    """The key offered for an account is not an RSA public key in PEM of a safe size."""


@dataclass(frozen=True)
class ZendeskClaims:
    """Who loaded the page, from a verified ZAF JWT."""

    account: str
    user_id: int
    installation_id: int | None
    app_id: int | None
    expires_at: datetime
    raw: Mapping[str, Any] = field(compare=False, hash=False, repr=False)


@dataclass(frozen=True)
class AppSession:
    """What an app session token grants: one user of one account, until ``expires_at``."""

    account: str
    user_id: int
    role: str
    expires_at: datetime


def installation_audience(subdomain: str, installation_id: int) -> str:
    """The ``aud`` Zendesk puts in tokens for this installation of the app."""
    return INSTALLATION_AUDIENCE.format(subdomain=subdomain, installation_id=installation_id)


def account_from_issuer(issuer: object) -> str:
    """The subdomain named by ``iss`` (``acme.zendesk.com`` → ``acme``), or WrongIssuer."""
    if not isinstance(issuer, str) or not issuer:
        raise WrongIssuer("the token has no iss claim")
    match = ZENDESK_ISSUER.fullmatch(issuer.lower())
    if match is None:
        raise WrongIssuer(f"iss {issuer!r} is not a Zendesk host ({{subdomain}}.zendesk.com)")
    return match["subdomain"]


def load_rsa_public_key(pem: str) -> RSAPublicKey:
    """Parse ``pem``, refusing anything but an RSA public key of at least MIN_RSA_BITS."""
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as e:
        raise PublicKeyRejected(f"not a public key in PEM: {e}") from e
    if not isinstance(key, RSAPublicKey):
        raise PublicKeyRejected(f"not an RSA public key: {type(key).__name__}")
    if key.key_size < MIN_RSA_BITS:
        raise PublicKeyRejected(f"RSA key of {key.key_size} bits, fewer than {MIN_RSA_BITS}")
    return key


def verify_zendesk_token(token: str, *, key_for: Callable[[str], str],
                         audience: str | Callable[[str], str], now: datetime,
                         leeway: timedelta = DEFAULT_LEEWAY) -> ZendeskClaims:
    """Check a ZAF JWT and return its claims, or raise the AuthError that says what is wrong.

    ``key_for(account)`` returns the PEM public key of the account (subdomain) named by the
    still unverified issuer, or raises UnknownAccount. ``audience`` is the expected ``aud``, or a
    function of the account giving it (one installation per account in a multi-account set-up).
    """
    _check_header_algorithm(token, ZENDESK_ALGORITHM)
    unverified = _decode(token, key=None, algorithm=ZENDESK_ALGORITHM, options={})
    account = account_from_issuer(unverified.get("iss"))
    key = load_rsa_public_key(key_for(account))
    expected = audience(account) if callable(audience) else audience
    claims = _decode(token, key=key, algorithm=ZENDESK_ALGORITHM, options={
        "require": list(REQUIRED_ZENDESK_CLAIMS), "verify_aud": True, "strict_aud": True},
        audience=expected)
    _check_issuer_owns_audience(claims["iss"], claims["aud"])
    expires_at = _check_times(claims, _timestamp(now), leeway.total_seconds())
    cnf = claims.get("cnf") if isinstance(claims.get("cnf"), dict) else {}
    return ZendeskClaims(
        account=account, user_id=_user_id(claims["sub"]),
        installation_id=_id_in(INSTALLATION_ID_IN_AUD, claims["aud"]),
        app_id=_id_in(APP_ID_IN_JKU, cnf.get("jku")),
        expires_at=expires_at, raw=MappingProxyType(claims))


class PublicKeyCache:
    """Each account's app public key, fetched from Zendesk and kept for ``ttl``.

    ``fetch(url)`` returns the response body (the caller's HTTP adapter raises its own errors);
    ``app_ids`` maps every account (subdomain) the app serves to its app id, so a token naming any
    other account is refused before anything is fetched. A key that is not an RSA public key in
    PEM is refused and not cached. A fetch that fails (no answer, an HTTP error) is
    `KeyUnavailable`, and is remembered for ``retry_after``, so a burst of loads makes one
    outbound request, not one each. One fetch at a time per account: concurrent misses wait for
    the first and use its key.
    """

    def __init__(self, fetch: Callable[[str], str], app_ids: Mapping[str, int],
                 ttl: timedelta = DEFAULT_KEY_TTL,
                 retry_after: timedelta = KEY_RETRY_AFTER) -> None:
        self._fetch = fetch
        self._app_ids = app_ids
        self._ttl = ttl
        self._retry_after = retry_after
        self._keys: dict[str, tuple[str, datetime]] = {}
        self._failures: dict[str, datetime] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def public_key(self, account: str, now: datetime) -> str:
        """The account's PEM public key, from the cache while younger than the TTL."""
        known = ZENDESK_ISSUER.fullmatch(f"{account}.zendesk.com") and account in self._app_ids
        if not known:
            raise UnknownAccount(f"no installation of this app is known for account {account!r}")
        cached = self._cached(account, now)
        if cached is not None:
            return cached
        with self._locks_lock:
            lock = self._locks.setdefault(account, threading.Lock())
        with lock:
            cached = self._cached(account, now)
            if cached is not None:
                return cached
            failed = self._failures.get(account)
            if failed is not None and timedelta(0) <= now - failed < self._retry_after:
                raise KeyUnavailable("Zendesk's public key could not be fetched just now")
            url = PUBLIC_KEY_URL.format(subdomain=account, app_id=self._app_ids[account])
            try:
                pem = self._fetch(url)
            except Exception as error:  # any fetch failure: the caller answers 503, not 500
                self._failures[account] = now
                log.warning("fetching the public key of %s failed: %s", account,
                            type(error).__name__)
                raise KeyUnavailable("Zendesk's public key could not be fetched") from None
            load_rsa_public_key(pem)
            self._failures.pop(account, None)
            self._keys[account] = (pem, now)
            return pem

    def _cached(self, account: str, now: datetime) -> str | None:
        cached = self._keys.get(account)
        if cached is not None and timedelta(0) <= now - cached[1] < self._ttl:
            return cached[0]
        return None

    def key_for(self, now: datetime) -> Callable[[str], str]:
        """``public_key`` with ``now`` fixed: the ``key_for`` argument of verify_zendesk_token."""
        return lambda account: self.public_key(account, now)


def issue_app_token(secret: bytes, *, account: str, user_id: int, role: str, now: datetime,
                    ttl: timedelta = DEFAULT_APP_TOKEN_TTL) -> str:
    """A short-lived HS256 token binding one user of one account, for ``Authorization: Bearer``.
    Each carries a random `jti`, so two loads in the same second are two sessions (a session is
    bound to what it first reads, see `plugin.web.binding`)."""
    _check_secret(secret)
    if ttl <= timedelta(0):
        raise ValueError("an app token needs a positive lifetime")
    issued = int(_timestamp(now))
    claims = {"iss": APP_TOKEN_ISSUER, "aud": APP_TOKEN_AUDIENCE, "acc": account,
              "sub": str(user_id), "role": role, "iat": issued,
              "exp": issued + int(ttl.total_seconds()), "jti": secrets.token_urlsafe(12)}
    return jwt.encode(claims, secret, algorithm=APP_TOKEN_ALGORITHM)


class SessionCache:
    """App tokens already verified, so a page's repeated calls skip the signature check.

    A token is the key, byte for byte: only the exact string that passed `read_app_token`
    is let through again, and only until its own expiry. Bounded, least recently used first
    out. One per app (one secret)."""

    def __init__(self, secret: bytes, max_entries: int = 4096):
        self.secret = secret
        self.max_entries = max_entries
        self._sessions: OrderedDict[str, AppSession] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, token: str, now: datetime) -> AppSession:
        with self._lock:
            session = self._sessions.get(token)
            if session is not None:
                if now < session.expires_at:
                    self._sessions.move_to_end(token)
                    return session
                del self._sessions[token]
        session = read_app_token(token, self.secret, now)
        with self._lock:
            self._sessions[token] = session
            while len(self._sessions) > self.max_entries:
                self._sessions.popitem(last=False)
        return session


def read_app_token(token: str, secret: bytes, now: datetime) -> AppSession:
    """The session an app token grants, or the AuthError that says why not.

    Tampered tokens raise BadSignature (or UnsignedToken / WrongAlgorithm when the header was
    changed), expired ones TokenExpired, anything not minted here MalformedToken or the claim
    error that names the difference.
    """
    _check_secret(secret)
    _check_header_algorithm(token, APP_TOKEN_ALGORITHM)
    claims = _decode(token, key=secret, algorithm=APP_TOKEN_ALGORITHM, options={
        "require": list(REQUIRED_APP_CLAIMS), "verify_aud": True, "verify_iss": True},
        audience=APP_TOKEN_AUDIENCE, issuer=APP_TOKEN_ISSUER)
    if not all(isinstance(claims[name], str) for name in ("acc", "sub", "role")) \
            or not claims["sub"].isdigit():
        raise MalformedToken("acc, sub and role must be strings, sub a user id")
    expires_at = _check_times(claims, _timestamp(now), leeway=0.0)
    return AppSession(account=claims["acc"], user_id=int(claims["sub"]), role=claims["role"],
                      expires_at=expires_at)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != BEARER_SCHEME or not token.strip():
        raise MalformedToken("no 'Authorization: Bearer <token>' header")
    return token.strip()


def _check_header_algorithm(token: str, expected: str) -> None:
    """Refuse before any verification when the header names another algorithm, or none."""
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.DecodeError as e:
        raise MalformedToken(f"not a JWT: {e}") from e
    if not isinstance(algorithm, str):
        raise MalformedToken("the JWT header has no alg")
    if algorithm.lower() == "none":
        raise UnsignedToken("the token is unsigned (alg: none)")
    if algorithm != expected:
        raise WrongAlgorithm(f"the token is signed with {algorithm}, only {expected} is accepted")


def _decode(token: str, *, key: Any, algorithm: str, options: dict[str, Any],
            **checks: Any) -> dict[str, Any]:
    """PyJWT's decode with its clock checks off (``now`` is ours), errors made ours."""
    base = {"verify_signature": key is not None, "verify_exp": False, "verify_nbf": False,
            "verify_iat": False, "verify_iss": False, "verify_aud": False,
            "verify_sub": False, "verify_jti": False}
    try:
        return jwt.decode(token, key, algorithms=[algorithm], options={**base, **options}, **checks)
    except jwt.InvalidSignatureError as e:
        raise BadSignature("the signature does not match the key") from e
    except jwt.InvalidAlgorithmError as e:
        raise WrongAlgorithm(str(e)) from e
    except jwt.MissingRequiredClaimError as e:
        raise MissingClaims(f"the token has no {e.claim} claim") from e
    except jwt.InvalidAudienceError as e:
        raise WrongAudience(f"the token is not for audience {checks.get('audience')!r}") from e
    except jwt.InvalidIssuerError as e:
        raise WrongIssuer(f"the token is not issued by {checks.get('issuer')!r}") from e
    except jwt.InvalidTokenError as e:
        raise MalformedToken(f"not a valid JWT: {e}") from e


def _check_issuer_owns_audience(issuer: str, audience: object) -> None:
    """The installation in ``aud`` must live on the issuing account's host."""
    host = urlsplit(audience).hostname if isinstance(audience, str) else None
    if host != issuer.lower():
        raise WrongIssuer(f"iss {issuer!r} is not the account of aud {audience!r}")


def _check_times(claims: Mapping[str, Any], now: float, leeway: float) -> datetime:
    """Apply exp, nbf and iat against ``now`` with ``leeway`` seconds of clock skew."""
    for name in ("exp", "nbf", "iat"):
        if name in claims and not _is_number(claims[name]):
            raise MalformedToken(f"{name} is not a number")
    if now > claims["exp"] + leeway:
        raise TokenExpired(f"the token expired at {epoch_zulu(claims['exp'])}")
    for name in ("nbf", "iat"):
        if name in claims and now < claims[name] - leeway:
            raise TokenNotYetValid(f"{name} {epoch_zulu(claims[name])} is in the future")
    return _from_timestamp(claims["exp"])


def _user_id(sub: object) -> int:
    """The Zendesk user id in ``sub``: a number, or a URL ending in ``/users/{id}(.json)``."""
    if isinstance(sub, int) and not isinstance(sub, bool) and sub > 0:
        return sub
    match = USER_ID_IN_SUB.search(sub) if isinstance(sub, str) else None
    if match is None:
        raise MalformedToken(f"sub {sub!r} does not name a Zendesk user")
    return int(match["id"])


def _id_in(pattern: re.Pattern[str], value: object) -> int | None:
    match = pattern.search(value) if isinstance(value, str) else None
    return int(match["id"]) if match else None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the app token secret must be at least {MIN_SECRET_BYTES} bytes")


def _timestamp(now: datetime) -> float:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.timestamp()


def _from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


