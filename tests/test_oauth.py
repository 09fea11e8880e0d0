"""Zendesk's OAuth endpoints from both sides: the app's client through `responses` at the HTTP
boundary (the documented request and answer shapes of "Create Token for Grant Type"), and the
sandbox's answers to the same requests over real HTTP."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from responses import matchers

from integrations.errors import AuthFailed
from integrations.oauth import Grant, OAuthClient, ZendeskOAuth
from integrations.sandbox.server import running_sandbox
from integrations.zendesk import ZendeskClient, ZendeskConfig
from tests.reference import example

BASE = "https://newco.zendesk.com"
CLIENT = OAuthClient("customer_value", "s3cret")
REDIRECT = "https://app.example.org/setup/oauth/callback"


def oauth(base=BASE) -> ZendeskOAuth:
    return ZendeskOAuth(base, CLIENT, REDIRECT)


def test_the_authorization_page_is_asked_for_a_code_with_the_state():
    url = urlsplit(oauth().authorize_url("st4te"))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{BASE}/oauth/authorizations/new"
    assert parse_qs(url.query) == {"response_type": ["code"], "redirect_uri": [REDIRECT],
                                   "client_id": ["customer_value"], "scope": ["read write"],
                                   "state": ["st4te"]}


def test_a_code_is_exchanged_as_documented(http):
    documented = example("OAuthTokenForGrantTypesResponseExample")
    http.post(f"{BASE}/oauth/tokens", status=201,
              json={**documented, "refresh_token": "r1", "expires_in": 86400},
              match=[matchers.json_params_matcher({
                  "grant_type": "authorization_code", "code": "c0de",
                  "redirect_uri": REDIRECT, "scope": "read write",
                  "client_id": "customer_value", "client_secret": "s3cret"})])
    grant = oauth().exchange("c0de")
    assert grant == Grant(documented["access_token"], "r1", 86400)
    assert documented["access_token"] not in repr(grant)


def test_a_refused_grant_is_an_auth_failure(http):
    http.post(f"{BASE}/oauth/tokens", status=400,
              json={"error": "invalid_grant", "error_description": "expired"})
    with pytest.raises(AuthFailed):
        oauth().refresh("r-old")


def test_an_oauth_account_signs_in_with_a_bearer_token(http):
    http.get(f"{BASE}/api/v2/users/me", json={"user": {"id": 7, "email": "a@newco.example",
                                                       "role": "admin"}},
             match=[matchers.header_matcher({"Authorization": "Bearer acc3ss"})])
    config = ZendeskConfig(BASE, "", "acc3ss", kind="oauth")
    assert "acc3ss" not in repr(config) and "acc3ss" not in repr(config.auth)
    assert ZendeskClient.connect(config).me() == (7, "a@newco.example", "admin")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "users.json").write_text(json.dumps({"users": []}))
    (folder / "tickets.json").write_text(json.dumps({"tickets": []}))
    with running_sandbox(folder, oauth_client_secret="s3cret") as base_url:
        yield base_url


def code_from(sandbox: str, redirect: str = REDIRECT) -> str:
    page = requests.get(oauth(sandbox).authorize_url("xyz"), timeout=10)
    assert page.status_code == 200 and "Allow" in page.text
    answer = requests.post(f"{sandbox}/oauth/authorizations", timeout=10,
                           allow_redirects=False,
                           data={"decision": "allow", "redirect_uri": redirect, "state": "xyz"})
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


@pytest.mark.slow
def test_the_sandbox_grants_refreshes_and_revokes_like_zendesk(sandbox):
    client = oauth(sandbox)
    code = code_from(sandbox)
    grant = client.exchange(code)
    with pytest.raises(AuthFailed):
        client.exchange(code)  # a code is good once
    me = requests.get(f"{sandbox}/api/v2/users/me", timeout=10,
                      headers={"Authorization": f"Bearer {grant.access_token}"})
    assert me.status_code == 200 and me.json()["user"]["role"] == "admin"
    fresh = client.refresh(grant.refresh_token)
    with pytest.raises(AuthFailed):
        client.refresh(grant.refresh_token)  # the old refresh token is spent
    client.revoke(fresh.access_token)
    refused = requests.get(f"{sandbox}/api/v2/users/me", timeout=10,
                           headers={"Authorization": f"Bearer {fresh.access_token}"})
    assert refused.status_code == 401


@pytest.mark.slow
def test_the_sandbox_refuses_a_wrong_secret_a_denial_and_another_redirect(sandbox):
    wrong = ZendeskOAuth(sandbox, OAuthClient("customer_value", "guess"), REDIRECT)
    with pytest.raises(AuthFailed):
        wrong.exchange(code_from(sandbox))
    other = ZendeskOAuth(sandbox, CLIENT, "https://elsewhere.example/cb")
    with pytest.raises(AuthFailed):
        other.exchange(code_from(sandbox))
    denied = requests.post(f"{sandbox}/oauth/authorizations", timeout=10,
                           allow_redirects=False,
                           data={"decision": "deny", "redirect_uri": REDIRECT, "state": "s"})
    assert parse_qs(urlsplit(denied.headers["Location"]).query) == {
        "error": ["access_denied"], "state": ["s"]}
    unknown = requests.get(f"{sandbox}/oauth/authorizations/new", timeout=10, params={
        "response_type": "code", "client_id": "someone", "redirect_uri": REDIRECT})
    assert unknown.status_code == 400
