"""A CRM address typed into the settings page may only point at the public internet: https,
no user name, the default port, and a host resolving only to global addresses. Checked when
saved and before each request, with a fake resolver."""

import socket

import pytest
import responses

from integrations.bitrix24 import Bitrix24Client, Bitrix24Config
from integrations.errors import AuthFailed, BadResponse
from integrations.hosts import UnsafeUrl, check_public_url
from plugin.core.settings import Settings
from plugin.service_layer.crm import CrmConnector, CrmEnv
from tests.factories import customer

BITRIX = Settings(spend_source="bitrix24")

HOOK = "https://acme.bitrix24.com/rest/1/hooksecret123/"


def resolver(*addresses):
    def resolve(host, port, type=0):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, type, 6, "", (a, port))
                for a in addresses]
    return resolve


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1"])
def test_hosts_resolving_to_a_non_public_address_are_refused(address):
    with pytest.raises(UnsafeUrl, match="not on the public internet"):
        check_public_url(HOOK, resolve=resolver("93.184.215.14", address))


@pytest.mark.parametrize(("url", "reason"), [
    ("http://acme.bitrix24.com/rest/1/s/", "https"),
    ("https://user@acme.bitrix24.com/rest/1/s/", "user name"),
    ("https://u:p@acme.bitrix24.com/rest/1/s/", "user name"),
    ("https://acme.bitrix24.com:8443/rest/1/s/", "port"),
    ("https:///rest/1/s/", "no host"),
])
def test_urls_of_the_wrong_shape_are_refused(url, reason):
    with pytest.raises(UnsafeUrl, match=reason):
        check_public_url(url, resolve=resolver("93.184.215.14"))


def test_a_public_host_passes_and_private_ones_pass_only_when_allowed():
    check_public_url(HOOK, resolve=resolver("93.184.215.14", "2606:2800:220:1::1"))
    check_public_url("http://127.0.0.1:8765/rest/1/s/", allow_private=True)
    with pytest.raises(UnsafeUrl, match="cannot be resolved"):
        check_public_url(HOOK, resolve=lambda *a, **k: (_ for _ in ()).throw(
            socket.gaierror("no such host")))


def test_the_check_runs_before_every_request_so_a_changed_dns_answer_is_caught():
    answers = [resolver("93.184.215.14"), resolver("169.254.169.254")]
    client = Bitrix24Client.connect(Bitrix24Config(HOOK), check_url=lambda url: check_public_url(
        url, resolve=answers[0]))
    with responses.RequestsMock() as http:
        http.post(f"{HOOK}crm.contact.list.json", json={"result": [], "total": 0})
        assert client.contact_ids("ann@example.com") == []
        answers.pop(0)
        with pytest.raises(AuthFailed) as refused:
            client.contact_ids("ann@example.com")
        assert len(http.calls) == 1
    assert "hooksecret123" not in str(refused.value)


def test_a_saved_webhook_url_to_a_private_host_is_never_requested():
    saved = {"bitrix24_webhook_url": "http://127.0.0.1:9/rest/1/abc/"}
    crm = CrmConnector(env=CrmEnv())
    with responses.RequestsMock() as http:
        history = crm.history(customer(), BITRIX, account=1, secrets=saved.get)
        assert len(http.calls) == 0
    assert history.crm_degraded and "Bitrix24" in history.notices[0]
    trusted = CrmConnector(env=CrmEnv(), allow_private_hosts=True)
    with responses.RequestsMock() as http:
        http.post("http://127.0.0.1:9/rest/1/abc/crm.contact.list.json",
                  json={"result": [], "total": 0})
        assert trusted.history(customer(), BITRIX, account=1, secrets=saved.get).notices == ()


@pytest.mark.parametrize("address", [
    "2002:7f00:1::", "2002:a00:1::", "2002:5db8:d70e::",   # 6to4 (of 127.0.0.1, 10.0.0.1, public)
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",               # Teredo
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1",  # NAT64
    "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:192.168.0.1"])
def test_ipv6_forms_that_reach_an_ipv4_address_are_refused(address):
    with pytest.raises(UnsafeUrl, match="not on the public internet"):
        check_public_url(HOOK, resolve=resolver(address))


def test_the_check_names_the_address_it_vetted_for_the_connection():
    assert check_public_url(HOOK, resolve=resolver("93.184.215.14")) == "93.184.215.14"
    assert check_public_url("http://127.0.0.1:9/rest/1/s/", allow_private=True) is None


def test_a_redirect_is_an_error_and_never_followed():
    client = Bitrix24Client.connect(Bitrix24Config(HOOK), check_url=lambda url: check_public_url(
        url, resolve=resolver("93.184.215.14")))
    inside = "http://127.0.0.1:8080/latest/meta-data/iam"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        http.post(f"{HOOK}crm.contact.list.json", status=307, headers={"Location": inside})
        http.post(inside, json={"result": [], "total": 0})
        with pytest.raises(BadResponse, match="307"):
            client.contact_ids("ann@example.com")
        assert [call.request.url for call in http.calls] == [f"{HOOK}crm.contact.list.json"]
