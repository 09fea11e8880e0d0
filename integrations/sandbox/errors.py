"""Zendesk's error answers, raised anywhere in the sandbox and rendered in one place.

Zendesk speaks two error dialects: the classic Support API answers `{"error": ...,
"description": ...}`, while newer APIs (cursor pagination, webhooks) answer
`{"errors": [{"code": ..., "title": ...}]}`. Views raise `ApiError` with the right body; the app
turns it into a response.
"""

from __future__ import annotations

from typing import Any

NOT_FOUND_DESCRIPTION = "Not found"


class ApiError(Exception):
    """An HTTP error answer: status, JSON body and extra headers."""

    def __init__(self, status: int, body: dict[str, Any],
                 headers: dict[str, str] | None = None):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def classic(status: int, error: str, description: str, **extra: Any) -> ApiError:
    """The Support API's own shape: `{"error": "RecordNotFound", "description": "Not found"}`."""
    return ApiError(status, {"error": error, "description": description, **extra})


def listed(status: int, code: str, title: str, detail: str | None = None) -> ApiError:
    """The newer APIs' shape: `{"errors": [{"code": ..., "title": ..., "detail": ...}]}`."""
    item = {"code": code, "title": title}
    if detail is not None:
        item["detail"] = detail
    return ApiError(status, {"errors": [item]})


def not_found() -> ApiError:
    """A missing record, as the Support API reports it."""
    return classic(404, "RecordNotFound", NOT_FOUND_DESCRIPTION)


def invalid_endpoint() -> ApiError:
    """A path the account does not serve (Zendesk's answer to an unknown endpoint)."""
    return classic(404, "InvalidEndpoint", NOT_FOUND_DESCRIPTION)


def bad_request(description: str, error: str = "InvalidValue") -> ApiError:
    """A malformed parameter."""
    return classic(400, error, description)


def record_invalid(field: str, description: str, error: str = "InvalidValue") -> ApiError:
    """A 422 naming the field, as Zendesk reports failed validations of a record."""
    return classic(422, "RecordInvalid", "Record validation errors",
                   details={field: [{"description": description, "error": error}]})


def bad_cursor(parameter: str) -> ApiError:
    """An unreadable `page[after]`/`page[before]`/`cursor` value."""
    return listed(400, "InvalidPaginationParameter", f"{parameter} is not valid")
