"""An OAuth account's access token refused by Zendesk: the transport's renewal at the HTTP
boundary (`responses`), then against the sandbox's own OAuth endpoints on 127.0.0.1: every
client of the account (the periodic sync's, the sidebar's and tagging's) refreshes it once,
shares the fresh tokens, and, once the refresh is refused too, marks the account "Reconnect"
and sends Zendesk nothing more until an admin connects anew."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from integrations.errors import AuthFailed
from integrations.http import Transport
from integrations.oauth import BearerAuth, OAuthClient, ZendeskOAuth
from integrations.sandbox.server import running_sandbox
from integrations.zendesk import ZendeskConfig
from plugin.demo.generator import generate
from plugin.service_layer.account_sync import claim_due, run_claimed
from plugin.service_layer.jobs import apply_tags
from plugin.service_layer.setup import SetupOptions, refresh_or_reconnect
from plugin.storage.installations import Installation

NOW = datetime(2025, 6, 1, tzinfo=UTC)
REDIRECT = "https://app.test/setup/oauth/callback"
CLIENT = OAuthClient("customer_value", "sandbox-oauth-secret")


ME = "https://newco.zendesk.com/api/v2/users/me"
ME_BODY = {"user": {"id": 7, "email": "a@newco.example", "role": "admin"}}


def test_a_refused_token_is_renewed_once_and_the_request_sent_again():
    asked = []

    def renew(refused):
        asked.append(refused)
        return BearerAuth("fresh")

    transport = Transport(base_url="https://newco.zendesk.com", session=requests.Session(),
                          auth=BearerAuth("old"), renew=renew)
    with responses.RequestsMock() as http:
        http.get(ME, status=401, json={"error": "Couldn't authenticate you"},
                 match=[matchers.header_matcher({"Authorization": "Bearer old"})])
        http.get(ME, json=ME_BODY, match=[matchers.header_matcher(
            {"Authorization": "Bearer fresh"})])
        assert transport.get("/api/v2/users/me") == ME_BODY
    assert asked == [BearerAuth("old")]


def test_with_nothing_to_renew_with_nothing_more_is_sent_until_there_is():
    answers = [None, None, BearerAuth("reconnected")]
    transport = Transport(base_url="https://newco.zendesk.com", session=requests.Session(),
                          auth=BearerAuth("old"), renew=lambda refused: answers.pop(0))
    with responses.RequestsMock() as http:
        refused = http.get(ME, status=401, json={"error": "Couldn't authenticate you"})
        with pytest.raises(AuthFailed, match="connected again"):
            transport.get("/api/v2/users/me")
        assert refused.call_count == 1, "one refused call, no second one after the refusal"
        with pytest.raises(AuthFailed):
            transport.get("/api/v2/users/me")
        assert refused.call_count == 1, "asked the hook, sent nothing"
        http.replace(responses.GET, ME, json=ME_BODY)
        assert transport.get("/api/v2/users/me") == ME_BODY, "an admin connected again"
    assert answers == []


def test_a_second_refusal_right_after_a_renewal_is_not_renewed_again():
    asked = []
    transport = Transport(base_url="https://newco.zendesk.com", session=requests.Session(),
                          auth=BearerAuth("old"),
                          renew=lambda refused: asked.append(refused) or BearerAuth("new"))
    with responses.RequestsMock() as http:
        refused = http.get(ME, status=401, json={"error": "Couldn't authenticate you"})
        with pytest.raises(AuthFailed):
            transport.get("/api/v2/users/me")
        assert refused.call_count == 2
    assert asked == [BearerAuth("old")], "refreshed once, never in a loop"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oauth-account")
    generate(folder, 12, seed=8, now=NOW)
    with running_sandbox(folder, now=NOW, export_rate_limit=0, rate_limit=0) as base_url:
        yield base_url


def granted(sandbox: str):
    """Tokens of a fresh authorization, as the set-up page's callback gets them."""
    oauth = ZendeskOAuth(sandbox, CLIENT, REDIRECT)
    requests.get(oauth.authorize_url("s"), timeout=10).raise_for_status()
    answer = requests.post(f"{sandbox}/oauth/authorizations", timeout=10, allow_redirects=False,
                           data={"decision": "allow", "redirect_uri": REDIRECT, "state": "s"})
    return oauth, oauth.exchange(parse_qs(urlsplit(answer.headers["Location"]).query)
                                 ["code"][0])


def api_requests(sandbox: str) -> int:
    return requests.get(f"{sandbox}/_sandbox/stats", timeout=10).json()["requests"]


def install(services, sandbox, grant) -> None:
    services.registry.save(Installation(
        "newco", sandbox, 1, 2, "admin@example.com", grant.access_token, auth_kind="oauth",
        refresh_token=grant.refresh_token), NOW)


@pytest.mark.slow  # a sandbox server
def test_every_client_refreshes_a_revoked_token_once_then_asks_for_a_reconnect(make_app,
                                                                                sandbox):
    app = make_app({"ZENDESK_BASE_URL": sandbox, "ZENDESK_OAUTH_CLIENT_ID": CLIENT.client_id,
                    "ZENDESK_OAUTH_CLIENT_SECRET": CLIENT.client_secret, "TAG_ALWAYS": True})
    services = app.extensions["customer_value"]
    oauth, grant = granted(sandbox)
    install(services, sandbox, grant)
    config = services.account_config("newco")
    web = services.client(config)  # the sidebar's client, built with the first token
    assert web.me()[2] == "admin"

    # The access token is revoked in Zendesk; its refresh token still works.
    oauth.revoke(grant.access_token)
    assert claim_due(services, "w1", every=timedelta(0)) == ["newco"]
    report = run_claimed(services, "newco", "w1")
    assert report.sync.records > 0, "the periodic sync went on with a refreshed token"
    refreshed = services.registry.get("newco")
    assert refreshed.token != grant.access_token
    assert refreshed.refresh_token != grant.refresh_token, "refreshed once (a token spent)"
    assert not refreshed.needs_reconnect

    # The sidebar's client meets the revoked token too: it takes the tokens already
    # refreshed rather than spending the (now spent) refresh token again.
    customer = services.store(sandbox).recent_requesters(1)[0]
    assert web.user(customer)[0].profile.id == customer
    assert services.registry.get("newco").refresh_token == refreshed.refresh_token

    # A tagging job meets the next revoked token: the same single refresh, and the job runs.
    oauth.revoke(refreshed.token)
    store = services.store(sandbox)
    requester, ticket = next((user, store.open_ticket(user))
                             for user in store.recent_requesters(50) if store.open_ticket(user))
    with app.app_context():
        apply_tags(app, sandbox, ticket, requester, None)
    tagged = services.registry.get("newco")
    assert tagged.token != refreshed.token and tagged.refresh_token != refreshed.refresh_token
    assert not tagged.needs_reconnect

    # Zendesk refuses every token of the app (the admin removed its access): one refused
    # call, one refused refresh, then "Reconnect", and no call is sent any more.
    requests.post(f"{sandbox}/_sandbox/oauth/revoke_all", timeout=10).raise_for_status()
    before = api_requests(sandbox)
    with pytest.raises(AuthFailed):
        web.ticket_tags(1)
    assert api_requests(sandbox) == before + 1
    assert services.registry.get("newco").needs_reconnect
    with pytest.raises(AuthFailed):
        web.ticket_tags(1)
    assert api_requests(sandbox) == before + 1, "nothing sent after the refusal"
    # The sync's client, built earlier with the refreshed token, learns of the refusal with
    # one call and asks Zendesk for no refresh (it reads the account's "Reconnect").
    refused = services.registry.get("newco")
    with pytest.raises(AuthFailed):
        services.patient_client(config).ticket_tags(1)
    with pytest.raises(AuthFailed):
        services.patient_client(config).ticket_tags(1)
    assert api_requests(sandbox) == before + 2
    assert services.registry.get("newco").refresh_token == refused.refresh_token
    with pytest.raises(AuthFailed, match="reconnect"):
        services.account_config("newco")  # what every job and page asks first
    assert claim_due(services, "w2", every=timedelta(0)) == [], "the periodic sync waits"
    assert api_requests(sandbox) == before + 2

    # An admin connects the account again: the same clients use the new tokens.
    _, again = granted(sandbox)
    install(services, sandbox, again)
    assert web.ticket_tags(1) is not None
    assert claim_due(services, "w3", every=timedelta(0)) == ["newco"]
    assert run_claimed(services, "newco", "w3").sync is not None


@pytest.mark.slow
def test_a_refresh_refused_after_another_process_refreshed_takes_its_tokens(make_app,
                                                                             sandbox):
    app = make_app({"ZENDESK_BASE_URL": sandbox, "ZENDESK_OAUTH_CLIENT_ID": CLIENT.client_id,
                    "ZENDESK_OAUTH_CLIENT_SECRET": CLIENT.client_secret})
    services = app.extensions["customer_value"]
    oauth, grant = granted(sandbox)
    install(services, sandbox, grant)
    config = services.account_config("newco")
    client = services.patient_client(config)
    oauth.revoke(grant.access_token)
    # Another process refreshed first: the stored tokens changed, the refresh token this
    # process read is spent.
    other = oauth.refresh(grant.refresh_token)
    stale = services.registry.get("newco")
    install(services, sandbox, other)
    kept = refresh_or_reconnect(SetupOptions.from_config(app.config), services.registry, stale,
                                now=NOW)
    assert kept is not None and kept.token == other.access_token
    assert not services.registry.get("newco").needs_reconnect
    assert client.me()[2] == "admin"


@pytest.mark.slow
def test_a_new_grant_is_checked_on_its_own_never_on_the_tokens_it_replaces(make_app,
                                                                            sandbox):
    app = make_app({"ZENDESK_BASE_URL": sandbox, "ZENDESK_OAUTH_CLIENT_ID": CLIENT.client_id,
                    "ZENDESK_OAUTH_CLIENT_SECRET": CLIENT.client_secret})
    services = app.extensions["customer_value"]
    _, current = granted(sandbox)
    install(services, sandbox, current)
    oauth, new = granted(sandbox)
    oauth.revoke(new.access_token)  # a grant Zendesk no longer honours
    checked = services.client_factory(ZendeskConfig(sandbox, "", new.access_token,
                                                    kind="oauth"))
    with pytest.raises(AuthFailed):
        checked.me()  # not answered with the installation's own (still good) token
    assert services.registry.get("newco").token == current.access_token
