"""Signed loading: every way a ZAF JWT or an app token can be refused, and the ways they pass."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from plugin.web.auth import (
    BadSignature,
    MalformedToken,
    MissingClaims,
    PublicKeyCache,
    PublicKeyRejected,
    SessionCache,
    TokenExpired,
    TokenNotYetValid,
    UnknownAccount,
    UnsignedToken,
    WrongAlgorithm,
    WrongAudience,
    WrongIssuer,
    bearer_token,
    installation_audience,
    issue_app_token,
    read_app_token,
    verify_zendesk_token,
)
from tests.fakes import FakeFetch

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ACME_AUDIENCE = installation_audience("acme", 7)
SECRET = b"s" * 32


def public_pem(private_key) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def acme_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key_for(acme_key, other_key):
    """Two accounts known to the app, each with its own key; any other is unknown."""
    keys = {"acme": public_pem(acme_key), "beta": public_pem(other_key)}

    def lookup(account: str) -> str:
        if account not in keys:
            raise UnknownAccount(account)
        return keys[account]
    return lookup


def claims(**changes):
    """What Zendesk puts in the token for agent 42 of acme, loading the ticket sidebar."""
    base = {"iss": "acme.zendesk.com", "aud": ACME_AUDIENCE,
            "sub": "https://acme.zendesk.com/api/v2/users/42.json",
            "iat": int(NOW.timestamp()) - 5, "nbf": int(NOW.timestamp()) - 5,
            "exp": int((NOW + timedelta(minutes=5)).timestamp()),
            "cnf": {"jku": "https://acme.zendesk.com/api/v2/apps/99/public_key.pem"},
            "context": {"product": "support", "location": "ticket_sidebar"}}
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def segment(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsegment(text: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def hand_made(header: dict, payload: dict, sign=lambda signing_input: b"") -> str:
    signing_input = f"{segment(header)}.{segment(payload)}"
    signature = base64.urlsafe_b64encode(sign(signing_input.encode())).rstrip(b"=").decode()
    return f"{signing_input}.{signature}"


def verify(token, key_for, audience=ACME_AUDIENCE, now=NOW):
    return verify_zendesk_token(token, key_for=key_for, audience=audience, now=now)


@pytest.mark.parametrize("sub", [42, "42", "https://acme.zendesk.com/api/v2/users/42.json"])
def test_a_valid_token_gives_the_account_user_installation_and_app(acme_key, key_for, sub):
    token = jwt.encode(claims(sub=sub), acme_key, algorithm="RS256")
    result = verify(token, key_for)
    assert (result.account, result.user_id, result.installation_id, result.app_id) == (
        "acme", 42, 7, 99)
    assert result.expires_at == NOW + timedelta(minutes=5)
    assert result.raw["context"]["location"] == "ticket_sidebar"


def test_audience_may_depend_on_the_account(acme_key, key_for):
    token = jwt.encode(claims(), acme_key, algorithm="RS256")
    asked = []
    result = verify(token, key_for, audience=lambda account: asked.append(account) or ACME_AUDIENCE)
    assert (asked, result.account) == (["acme"], "acme")


@pytest.mark.parametrize("algorithm", ["none", "None", "NONE"])
def test_an_unsigned_token_is_refused(key_for, algorithm):
    token = hand_made({"alg": algorithm, "typ": "JWT"}, claims())
    with pytest.raises(UnsignedToken, match="alg: none"):
        verify(token, key_for)


def test_hs256_keyed_with_the_public_key_is_refused(acme_key, key_for):
    """The classic confusion: the public key, which anyone can fetch, used as an HMAC secret."""
    pem = public_pem(acme_key).encode()
    token = hand_made({"alg": "HS256", "typ": "JWT"}, claims(),
                      lambda data: hmac.new(pem, data, hashlib.sha256).digest())
    with pytest.raises(WrongAlgorithm, match="HS256, only RS256"):
        verify(token, key_for)


def test_another_rsa_algorithm_is_refused(acme_key, key_for):
    with pytest.raises(WrongAlgorithm, match="RS512"):
        verify(jwt.encode(claims(), acme_key, algorithm="RS512"), key_for)


def test_a_token_signed_with_another_accounts_key_is_refused(other_key, key_for):
    with pytest.raises(BadSignature):
        verify(jwt.encode(claims(), other_key, algorithm="RS256"), key_for)


def test_a_token_whose_claims_were_changed_is_refused(acme_key, key_for):
    header, _, signature = jwt.encode(claims(), acme_key, algorithm="RS256").split(".")
    forged = segment(claims(sub="https://acme.zendesk.com/api/v2/users/1.json"))
    with pytest.raises(BadSignature):
        verify(f"{header}.{forged}.{signature}", key_for)


@pytest.mark.parametrize(("seconds_ago", "accepted"), [(29, True), (30, True), (31, False)])
def test_expiry_allows_thirty_seconds_of_clock_skew(acme_key, key_for, seconds_ago, accepted):
    expired = claims(exp=int(NOW.timestamp()) - seconds_ago)
    token = jwt.encode(expired, acme_key, algorithm="RS256")
    if accepted:
        assert verify(token, key_for).user_id == 42
    else:
        with pytest.raises(TokenExpired, match="expired at 2025-03-01T11:59:29"):
            verify(token, key_for)


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_a_token_from_the_future_is_refused(acme_key, key_for, claim):
    token = jwt.encode(claims(**{claim: int(NOW.timestamp()) + 31}), acme_key, algorithm="RS256")
    with pytest.raises(TokenNotYetValid, match=claim):
        verify(token, key_for)


def test_a_token_for_another_installation_is_refused(acme_key, key_for):
    token = jwt.encode(claims(aud=installation_audience("acme", 8)), acme_key, algorithm="RS256")
    with pytest.raises(WrongAudience):
        verify(token, key_for)


@pytest.mark.parametrize("issuer", [None, "", 7, "evil.example.com", "acme.zendesk.com.evil.com",
                                    "https://acme.zendesk.com", "ac/me.zendesk.com"])
def test_an_issuer_that_is_not_a_zendesk_account_is_refused(issuer):
    """Refused before any key is looked up, so a forged iss never reaches a URL."""
    def key_for(account):
        raise AssertionError(f"looked up a key for {account!r}")
    token = hand_made({"alg": "RS256"}, claims(iss=issuer), lambda data: b"unchecked")
    with pytest.raises(WrongIssuer):
        verify(token, key_for)


def test_an_issuer_that_does_not_own_the_audience_is_refused(other_key, key_for):
    token = jwt.encode(claims(iss="beta.zendesk.com"), other_key, algorithm="RS256")
    with pytest.raises(WrongIssuer, match="not the account of aud"):
        verify(token, key_for)


def test_an_unknown_account_is_refused(acme_key, key_for):
    token = jwt.encode(claims(iss="stranger.zendesk.com"), acme_key, algorithm="RS256")
    with pytest.raises(UnknownAccount):
        verify(token, key_for)


@pytest.mark.parametrize("claim", ["exp", "sub", "aud"])
def test_a_token_without_a_required_claim_is_refused(acme_key, key_for, claim):
    token = jwt.encode(claims(**{claim: None}), acme_key, algorithm="RS256")
    with pytest.raises(MissingClaims, match=claim):
        verify(token, key_for)


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", segment({"alg": "RS256"}) + ".e30"])
def test_a_malformed_token_is_refused(key_for, token):
    with pytest.raises(MalformedToken):
        verify(token, key_for)


@pytest.mark.parametrize("sub", ["agent@acme.com", True, -3, {"id": 42}])
def test_a_subject_that_is_not_a_user_is_refused(acme_key, key_for, sub):
    with pytest.raises(MalformedToken, match="does not name a Zendesk user"):
        verify(jwt.encode(claims(sub=sub), acme_key, algorithm="RS256"), key_for)




ACME_KEY_URL = "https://acme.zendesk.com/api/v2/apps/99/public_key.pem"
BETA_KEY_URL = "https://beta.zendesk.com/api/v2/apps/5/public_key.pem"


@pytest.fixture
def fetch(acme_key, other_key):
    return FakeFetch({ACME_KEY_URL: public_pem(acme_key), BETA_KEY_URL: public_pem(other_key)})


def test_the_key_cache_fetches_once_per_account_until_the_ttl(fetch, acme_key, other_key):
    cache = PublicKeyCache(fetch, {"acme": 99, "beta": 5}, ttl=timedelta(hours=1))
    assert cache.public_key("acme", NOW) == public_pem(acme_key)
    assert cache.public_key("beta", NOW) == public_pem(other_key)
    assert cache.public_key("acme", NOW + timedelta(minutes=59)) == public_pem(acme_key)
    assert fetch.urls == [ACME_KEY_URL, BETA_KEY_URL]
    cache.public_key("acme", NOW + timedelta(hours=1))
    assert fetch.urls == [ACME_KEY_URL, BETA_KEY_URL, ACME_KEY_URL]


def test_the_key_cache_refuses_accounts_it_does_not_serve(fetch):
    cache = PublicKeyCache(fetch, {"acme": 99, "evil.com/x": 1})
    for account in ("stranger", "evil.com/x"):
        with pytest.raises(UnknownAccount):
            cache.public_key(account, NOW)
    assert fetch.urls == []


def test_the_key_cache_feeds_the_verifier(fetch, acme_key):
    cache = PublicKeyCache(fetch, {"acme": 99})
    token = jwt.encode(claims(), acme_key, algorithm="RS256")
    assert verify(token, cache.key_for(NOW)).user_id == 42


def not_an_rsa_public_key():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    yield "EC", public_pem(ec.generate_private_key(ec.SECP256R1()))
    yield "small", public_pem(small)
    yield "private", small.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode()
    yield "html", "<html>Not Found</html>"


@pytest.mark.parametrize(("kind", "body"), list(not_an_rsa_public_key()))
def test_the_key_cache_refuses_what_is_not_an_rsa_public_key(kind, body):
    fetch = FakeFetch({ACME_KEY_URL: body})
    cache = PublicKeyCache(fetch, {"acme": 99})
    for _ in range(2):
        with pytest.raises(PublicKeyRejected):
            cache.public_key("acme", NOW)
    assert len(fetch.urls) == 2, "a refused key is not cached"


def app_token(**changes):
    values = {"account": "acme", "user_id": 42, "role": "agent", "now": NOW} | changes
    return issue_app_token(SECRET, **values)


def test_an_app_token_round_trips():
    session = read_app_token(app_token(), SECRET, NOW + timedelta(minutes=14))
    assert (session.account, session.user_id, session.role) == ("acme", 42, "agent")
    assert session.expires_at == NOW + timedelta(minutes=15)


def test_an_app_token_expires_after_its_ttl():
    token = app_token(ttl=timedelta(minutes=15))
    assert read_app_token(token, SECRET, NOW + timedelta(minutes=15)).user_id == 42
    with pytest.raises(TokenExpired):
        read_app_token(token, SECRET, NOW + timedelta(minutes=15, seconds=1))


def test_a_changed_app_token_is_refused():
    header, payload, signature = app_token().split(".")
    admin = unsegment(payload) | {"role": "admin"}
    with pytest.raises(BadSignature):
        read_app_token(f"{header}.{segment(admin)}.{signature}", SECRET, NOW)
    with pytest.raises(BadSignature):
        read_app_token(app_token(), b"t" * 32, NOW)
    with pytest.raises(UnsignedToken):
        read_app_token(hand_made({"alg": "none"}, unsegment(payload)), SECRET, NOW)


def test_tokens_of_one_kind_are_not_accepted_as_the_other(acme_key, key_for):
    with pytest.raises(WrongAlgorithm):
        verify(app_token(), key_for)
    with pytest.raises(WrongAlgorithm):
        read_app_token(jwt.encode(claims(), acme_key, algorithm="RS256"), SECRET, NOW)
    other_use = jwt.encode({"iss": "customer-value", "aud": "elsewhere", "acc": "acme",
                            "sub": "42", "role": "agent", "exp": 2e9}, SECRET, algorithm="HS256")
    with pytest.raises(WrongAudience):
        read_app_token(other_use, SECRET, NOW)


def test_the_session_cache_lets_only_the_verified_string_through_until_it_expires(
        monkeypatch):
    cache = SessionCache(SECRET)
    token = app_token(ttl=timedelta(minutes=15))
    assert cache.read(token, NOW).user_id == 42
    verified = []
    monkeypatch.setattr("plugin.web.auth.read_app_token",
                        lambda *args: verified.append(args) or read_app_token(*args))
    assert cache.read(token, NOW + timedelta(minutes=5)).user_id == 42
    assert verified == [], "a verified token is not checked again"
    header, payload, signature = token.split(".")
    admin = unsegment(payload) | {"role": "admin"}
    with pytest.raises(BadSignature):
        cache.read(f"{header}.{segment(admin)}.{signature}", NOW)
    with pytest.raises(TokenExpired):
        cache.read(token, NOW + timedelta(minutes=15, seconds=1))
    assert len(verified) == 2


def test_the_session_cache_is_bounded():
    cache = SessionCache(SECRET, max_entries=3)
    tokens = [app_token(user_id=n) for n in range(1, 6)]
    for token in tokens:
        cache.read(token, NOW)
    assert list(cache._sessions) == tokens[-3:]


def test_a_malformed_app_token_or_a_weak_secret_is_refused():
    with pytest.raises(MalformedToken):
        read_app_token("garbage", SECRET, NOW)
    with pytest.raises(ValueError, match="32 bytes"):
        issue_app_token(b"short", account="acme", user_id=42, role="agent", now=NOW)


@pytest.mark.parametrize("header", ["Bearer abc.def.ghi", "bearer  abc.def.ghi "])
def test_the_bearer_header_gives_the_token(header):
    assert bearer_token(header) == "abc.def.ghi"


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcg==", "Bearer ", "abc.def.ghi"])
def test_anything_but_a_bearer_header_is_refused(header):
    with pytest.raises(MalformedToken):
        bearer_token(header)
