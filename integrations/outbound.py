"""Outbound webhooks: a signed JSON POST to an address an admin gave, checked against
`integrations.hosts` (public https only, unless private hosts are allowed), never following a
redirect, with short timeouts."""

from __future__ import annotations

import requests

from integrations.hosts import UnsafeUrl, check_public_url

TIMEOUT = (3.05, 10.0)


def post_json(url: str, body: bytes, headers: dict[str, str], *,
              allow_private: bool = False, session: requests.Session | None = None) -> str:
    """Deliver `body`; what happened, in words (`delivered (HTTP 200)`, or why not)."""
    try:
        check_public_url(url, allow_private=allow_private)
    except UnsafeUrl as error:
        return f"not sent: {error}"
    sender = session or requests
    try:
        answer = sender.post(url, data=body, timeout=TIMEOUT, allow_redirects=False,
                             headers={"Content-Type": "application/json", **headers})
    except requests.RequestException as error:
        return f"not delivered: {type(error).__name__}"
    verdict = "delivered" if 200 <= answer.status_code < 300 else "refused"
    return f"{verdict} (HTTP {answer.status_code})"
