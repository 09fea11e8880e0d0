"""What every view needs: the sandbox's services, and small readers of requests and writers of
replies in Zendesk's conventions (JSON bodies, `.json` links, comma-separated ids).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, request

from integrations.sandbox.data import Store
from integrations.sandbox.errors import bad_request
from integrations.sandbox.faults import Traffic
from integrations.sandbox.grants import OAuthBoard
from integrations.sandbox.jobs import JobBoard
from integrations.sandbox.paging import (
    Listing,
    cursor_links,
    cursor_request,
    offset_links,
    offset_request,
    render,
    uses_cursor,
)

JSON = "application/json; charset=utf-8"
API_PREFIX = "/api/v2"
POSITIONS = ("page[after]", "page[before]", "page", "cursor", "start_time")
"""Query parameters that say where a page starts (replaced in links to other pages)."""
PAGE_MAX = 100
"""Records per page of Zendesk's list endpoints (the default and the maximum)."""


class Stats:
    """Requests served so far, in all and by endpoint ("GET /api/v2/tickets/{ticket_id}")."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_endpoint: Counter[str] = Counter()

    def count(self, endpoint: str) -> None:
        with self._lock:
            self._by_endpoint[endpoint] += 1

    def reset(self) -> None:
        with self._lock:
            self._by_endpoint.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": sum(self._by_endpoint.values()),
                    "by_endpoint": dict(sorted(self._by_endpoint.items()))}


@dataclass
class Services:
    """The sandbox's parts, built once per app and hung on `app.extensions["sandbox"]`."""

    store: Store
    traffic: Traffic
    jobs: JobBoard = field(default_factory=JobBoard)
    oauth: OAuthBoard = field(default_factory=OAuthBoard)
    stats: Stats = field(default_factory=Stats)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """Comments added through the API since the sandbox started, by ticket."""


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["sandbox"]


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer."""
    return Response(json.dumps(body, ensure_ascii=False), status, headers, mimetype=JSON)


def raw_reply(text: str, status: int = 200) -> Response:
    """A JSON answer already rendered (see `paging.render`)."""
    return Response(text, status, mimetype=JSON)


def api_base() -> str:
    """The sandbox's API root as clients reach it, e.g. "http://127.0.0.1:8765/api/v2"."""
    return request.host_url.rstrip("/") + API_PREFIX


def link(changes: dict[str, str | None]) -> str:
    """This endpoint's URL (with `.json`, as Zendesk writes links) at another position.

    The request's filters and sizes carry over; its position (`page[after]`, `cursor`, ...)
    gives way to `changes`.
    """
    params = {key: value for key, value in request.args.items() if key not in POSITIONS}
    params.update({key: value for key, value in changes.items() if value is not None})
    query = urlencode(params)
    return f"{request.host_url.rstrip('/')}{request.path}.json" + (f"?{query}" if query else "")


def request_body() -> dict[str, Any]:
    """The request's JSON object, or 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object", "InvalidJSON")
    return body


def id_list(name: str, limit: int) -> list[int]:
    """A comma-separated list of ids (`?ids=1,2,3`), at most `limit` of them, or 400."""
    raw = request.args.get(name, "")
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise bad_request(f"{name} must be comma-separated ids") from None
    if len(ids) > limit:
        raise bad_request(f"{name} takes at most {limit} ids, not {len(ids)}")
    return ids


def paged(name: str, listing: Listing, maximum: int = PAGE_MAX, offset: bool = True
          ) -> Response:
    """A list endpoint's answer: cursor pagination when asked for (`page[size]`,
    `page[after]`...) or when the endpoint has no other (`offset=False`), else offset
    pagination (`page`, `per_page`), as Zendesk's older endpoints offer both."""
    store = services().store
    if uses_cursor(request.args) or not offset:
        wanted = cursor_request(request.args, listing.order, maximum, maximum)
        page = store.page(listing, wanted)
        return raw_reply(render({name: page.items}, cursor_links(page, listing.order, link)))
    asked = offset_request(request.args, maximum, maximum)
    page = store.offset_page(listing, asked)
    return raw_reply(render({name: page.items}, offset_links(page, asked, link)))
