"""Whether the app may send a request to an address a person typed (a CRM webhook URL saved in
the settings page): only to the public internet, never to the app's own network.

An admin of one Zendesk account must not be able to point the app at 127.0.0.1, a cloud
metadata service (169.254.169.254) or a private address and read the answers through it
(server-side request forgery, OWASP "Server Side Request Forgery Prevention Cheat Sheet"). So a
URL must be https, carry no user name or password, use the default port, and its host must
resolve only to globally reachable unicast addresses (`ipaddress`' `is_global`, which leaves out
loopback, private, link-local, shared and reserved ranges). Every address
`socket.getaddrinfo` gives is checked, and the check runs when the URL is saved and again before
each request, since DNS can change in between. The check returns the address it vetted, and the
transport connects to that address (`integrations.http.PinnedAdapter`), so a second DNS answer
(rebinding) between the check and the connection cannot point the request elsewhere.

Addresses that embed an IPv4 address are judged as what they reach: IPv4-mapped ones
(::ffff:a.b.c.d) as their IPv4; 6to4 (2002::/16, RFC 3056), Teredo (2001::/32, RFC 4380) and
NAT64 (64:ff9b::/96, RFC 6052; 64:ff9b:1::/48, RFC 8215) are refused outright, since a relay
may hand them to any IPv4 address, private ones included.

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
                     resolve: Resolve = socket.getaddrinfo) -> str | None:
    """Raise UnsafeUrl unless `url` may be requested (see the module's rules); the vetted
    address to connect to (None with `allow_private`: the name is resolved as usual)."""
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
        return None
    if port not in (None, 443):
        raise UnsafeUrl("the address may not name a port other than 443")
    try:
        found = resolve(host, 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeUrl(f"the host {host} cannot be resolved") from None
    if not found:
        raise UnsafeUrl(f"the host {host} cannot be resolved")
    addresses = [ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
                 for *_, sockaddr in found]
    for address in addresses:
        if not is_public(address):
            raise UnsafeUrl(f"the host {host} is not on the public internet")
    return str(addresses[0])


TRANSLATED = tuple(ipaddress.ip_network(n) for n in (
    "2002::/16", "2001::/32", "64:ff9b::/96", "64:ff9b:1::/48"))
"""6to4, Teredo and the NAT64 prefixes: IPv6 forms that a relay turns into some IPv4 address."""


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally reachable unicast address (an IPv4-mapped IPv6 one judged as its IPv4;
    6to4, Teredo and NAT64 ones never)."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    if address.version == 6 and any(address in network for network in TRANSLATED):
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved
                                      or address.is_loopback or address.is_link_local
                                      or address.is_private or address.is_unspecified)
