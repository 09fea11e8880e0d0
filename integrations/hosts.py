"""Whether the app may send a request to an address a person typed (a CRM webhook URL saved in
the settings page): only to the public internet, never to the app's own network.

An admin of one Zendesk account must not be able to point the app at 127.0.0.1, a cloud
metadata service (169.254.169.254) or a private address and read the answers through it
(server-side request forgery, OWASP "Server Side Request Forgery Prevention Cheat Sheet"). So a
URL must be https, carry no user name or password, use the default port, and its host must
resolve only to globally reachable unicast addresses (`ipaddress`' `is_global`, which leaves out
loopback, private, link-local, shared and reserved ranges). Every address
`socket.getaddrinfo` gives is checked, and the check runs when the URL is saved and again before
each request, since DNS can change in between.

`allow_private` (the app's CRM_ALLOW_PRIVATE_HOSTS, on in demo mode) accepts http and any
host: for the built-in sandbox on 127.0.0.1 and for tests.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

Resolve = Callable[..., list[tuple[Any, ...]]]


class UnsafeUrl(ValueError):
    """The URL may not be requested; the message names why (never the URL's path)."""


def check_public_url(url: str, *, allow_private: bool = False,
                     resolve: Resolve = socket.getaddrinfo) -> None:
    """Raise UnsafeUrl unless `url` may be requested (see the module's rules)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeUrl("the address is not a valid URL") from None
    if parts.scheme not in (("https", "http") if allow_private else ("https",)):
        raise UnsafeUrl("the address must start with https://")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeUrl("the address may not carry a user name or password")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("the address has no host")
    if allow_private:
        return
    if port not in (None, 443):
        raise UnsafeUrl("the address may not name a port other than 443")
    try:
        found = resolve(host, 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeUrl(f"the host {host} cannot be resolved") from None
    if not found:
        raise UnsafeUrl(f"the host {host} cannot be resolved")
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if not is_public(address):
            raise UnsafeUrl(f"the host {host} is not on the public internet")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally reachable unicast address (an IPv4-mapped IPv6 one judged as its IPv4)."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not (address.is_multicast or address.is_reserved
                                      or address.is_loopback or address.is_link_local
                                      or address.is_private or address.is_unspecified)
