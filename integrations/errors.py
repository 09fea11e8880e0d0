"""The project's own errors for everything outside it.

Adapters translate library and network failures into these, in one place each, so callers
decide on meaning (retry later, show "data unavailable", ask for new credentials) without
knowing which library or service failed.
"""

from __future__ import annotations


class IntegrationError(Exception):
    """A call to an outside service failed."""

    def __init__(self, message: str, *, service: str = "Zendesk"):
        self.service = service
        super().__init__(message)


class NotFound(IntegrationError):
    """The record does not exist (or is not visible to these credentials)."""


FORBIDDEN = 403
"""The status of credentials that are good but may not read this resource."""


class AuthFailed(IntegrationError):
    """The service rejected the credentials: someone must fix them; retrying will not help.
    `status` is the HTTP status when there was one (401 unknown, 403 not allowed)."""

    def __init__(self, message: str, *, service: str = "Zendesk", status: int | None = None):
        self.status = status
        super().__init__(message, service=service)


class RateLimited(IntegrationError):
    """Over the service's rate limit; `retry_after` seconds until it accepts calls again."""

    def __init__(self, retry_after: float, *, service: str = "Zendesk"):
        self.retry_after = retry_after
        super().__init__(f"{service} is rate limiting; retry after {retry_after:.0f} s",
                         service=service)


class Unavailable(IntegrationError):
    """The service is down, failing or too slow, even after retries."""


class Conflict(IntegrationError):
    """A safe update lost a race: the record changed since it was read."""


class BadResponse(IntegrationError):
    """The service answered with something this client cannot read (or pages without end)."""
