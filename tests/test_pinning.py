"""The transport connects to the address its host check vetted, not to a second DNS answer:
a local HTTPS server on 127.0.0.1 with a certificate for a made-up name, reached by that name
(which resolves nowhere) through the pinned address, with SNI, the certificate check and the
Host header all on the name."""

from __future__ import annotations

import datetime
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from integrations.errors import Unavailable
from integrations.http import RetryPolicy, Transport

NAME = "crm.invalid"
"""A name under .invalid (RFC 2606): it never resolves, so only the pin can reach the server."""


def certificate(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def https_server(tmp_path):
    """An HTTPS server on 127.0.0.1 presenting a certificate for NAME; what it saw."""
    cert_path, key_path = certificate(tmp_path, NAME)
    seen: dict[str, list[str]] = {"sni": [], "host": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            seen["host"].append(self.headers.get("Host", ""))
            body = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name or "")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], cert_path, seen, tmp_path
    server.shutdown()
    server.server_close()


def transport(port: int, trust: Path, check_url) -> Transport:
    session = requests.Session()
    session.verify = str(trust)
    return Transport(base_url=f"https://{NAME}:{port}/", session=session, check_url=check_url,
                     service="CRM", policy=RetryPolicy(attempts=1), sleep=lambda s: None)


def test_the_request_goes_to_the_vetted_address_with_the_name_kept_for_tls(https_server):
    port, trust, seen, _ = https_server
    client = transport(port, trust, check_url=lambda url: "127.0.0.1")
    assert client.get("status") == {"ok": True}
    assert seen["sni"] == [NAME]
    assert seen["host"] == [f"{NAME}:{port}"]


def test_without_a_pin_the_name_is_resolved_and_fails(https_server):
    port, trust, seen, _ = https_server
    client = transport(port, trust, check_url=lambda url: None)
    with pytest.raises(Unavailable):
        client.get("status")
    assert seen["host"] == []


def test_the_certificate_is_still_verified_at_the_pinned_address(https_server):
    port, _, seen, folder = https_server
    other, _ = certificate(folder, "other.invalid")
    client = transport(port, other, check_url=lambda url: "127.0.0.1")
    with pytest.raises(Unavailable):
        client.get("status")
    assert seen["host"] == []
