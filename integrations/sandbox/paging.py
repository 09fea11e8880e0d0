"""Zendesk's three ways of paging, as pure values: what a request asks for and what to answer.

- Cursor pagination (`page[size]`, `page[after]`, `page[before]`) answers `meta` (`has_more`,
  `after_cursor`, `before_cursor`) and `links` (`next`, `prev`).
- Offset pagination (`page`, `per_page`) answers `next_page`, `previous_page` and `count`.
- Incremental exports page by an opaque `cursor` over the records' change positions and answer
  `after_cursor`, `after_url`, `before_cursor`, `before_url` and `end_of_stream`.

Cursors are opaque to clients but carry the sort key of the record they stop at, so a page is
one indexed range query however deep the client has walked.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from integrations.sandbox.errors import bad_cursor, bad_request
from integrations.sandbox.loader import SEQ_SHIFT

LOW_MASK = (1 << SEQ_SHIFT) - 1
Position = tuple[Any, int]
"""Where a page stops: the record's sort value and its primary key."""


@dataclass(frozen=True)
class Listing:
    """A filtered, sorted set of records that a list endpoint pages through.

    `source`, `key`, `sort` and `where` are SQL chosen by the sandbox (never by the client);
    `order` names the sort in cursors, so a cursor cannot be replayed against another sort.
    """

    source: str
    order: str
    sort: str = "pk"
    key: str = "pk"
    body: str = "body"
    descending: bool = False
    where: tuple[str, ...] = ()
    params: tuple[Any, ...] = ()

    def filtered(self, condition: str, *params: Any) -> Listing:
        """The same listing with one more condition."""
        return Listing(self.source, self.order, self.sort, self.key, self.body,
                       self.descending, (*self.where, condition), (*self.params, *params))


@dataclass(frozen=True)
class CursorRequest:
    """`page[size]`, and at most one of `page[after]`/`page[before]` (decoded)."""

    size: int
    after: Position | None = None
    before: Position | None = None


@dataclass(frozen=True)
class OffsetRequest:
    """`page` (from 1) and `per_page`."""

    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Page:
    """One page of JSON texts, whether more follow, and where it starts and stops."""

    items: list[str]
    has_more: bool
    first: Position | None = None
    last: Position | None = None
    total: int | None = None


def uses_cursor(args: Mapping[str, str]) -> bool:
    """Whether a list request asks for cursor pagination (any `page[...]` parameter)."""
    return any(name.startswith("page[") for name in args)


def integer(args: Mapping[str, str], name: str, default: int | None = None,
            minimum: int = 0) -> int | None:
    """A whole-number query parameter, or 400 as Zendesk answers a malformed one."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise bad_request(f"{name} must be at least {minimum}")
    return value


def cursor_request(args: Mapping[str, str], order: str, default: int,
                   maximum: int) -> CursorRequest:
    """Reads `page[size]` (clamped to `maximum`) and the cursor of a cursor-paged request."""
    size = min(integer(args, "page[size]", default, minimum=1) or default, maximum)
    after, before = args.get("page[after]"), args.get("page[before]")
    if after and before:
        raise bad_cursor("page[after] and page[before] together")
    return CursorRequest(size, decode_cursor(after, order, "page[after]") if after else None,
                         decode_cursor(before, order, "page[before]") if before else None)


def offset_request(args: Mapping[str, str], default: int, maximum: int) -> OffsetRequest:
    """Reads `page` and `per_page` (clamped to `maximum`) of an offset-paged request."""
    page = integer(args, "page", 1, minimum=1) or 1
    per_page = min(integer(args, "per_page", default, minimum=1) or default, maximum)
    return OffsetRequest(page, per_page)


def encode_cursor(order: str, position: Position) -> str:
    """An opaque list cursor: the sort's name and the position, as base64 JSON."""
    text = json.dumps({"o": order, "v": list(position)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(token: str, order: str, parameter: str) -> Position:
    """The position in a list cursor, or 400 if it is not one of ours for this sort."""
    try:
        data = json.loads(_unbase64(token))
        value, key = data["v"]
        if data["o"] != order or not isinstance(key, int):
            raise ValueError(data)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise bad_cursor(parameter) from None
    return value, key


def encode_position(seq: int) -> str:
    """An incremental export cursor, in the shape of Zendesk's (base64 of "time.0||id|")."""
    text = f"{seq >> SEQ_SHIFT}.0||{seq & LOW_MASK}|"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_position(token: str) -> int:
    """The export position in an incremental cursor, or 400 if it is not one."""
    try:
        stamp, _, rest = _unbase64(token).decode().partition(".0||")
        low = int(rest.removesuffix("|"))
        if not 0 <= low <= LOW_MASK:
            raise ValueError(low)
        return (int(stamp) << SEQ_SHIFT) | low
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise bad_cursor("cursor") from None


def start_position(start_time: int) -> int:
    """The position just before every record changed at or after `start_time`."""
    return (start_time << SEQ_SHIFT) - 1


def _unbase64(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def cursor_links(page: Page, order: str,
                 url: Callable[[dict[str, str]], str]) -> dict[str, Any]:
    """`meta` and `links` of a cursor-paged answer; `url` builds a link from page params."""
    after = encode_cursor(order, page.last) if page.last is not None else None
    before = encode_cursor(order, page.first) if page.first is not None else None
    return {
        "meta": {"has_more": page.has_more, "after_cursor": after, "before_cursor": before},
        "links": {"next": url({"page[after]": after}) if page.has_more and after else None,
                  "prev": url({"page[before]": before}) if before else None},
    }


def offset_links(page: Page, request: OffsetRequest,
                 url: Callable[[dict[str, str]], str]) -> dict[str, Any]:
    """`next_page`, `previous_page` and `count` of an offset-paged answer."""
    return {
        "next_page": url({"page": str(request.page + 1)}) if page.has_more else None,
        "previous_page": url({"page": str(request.page - 1)}) if request.page > 1 else None,
        "count": page.total,
    }


def render(lists: Mapping[str, list[str]], fields: Mapping[str, Any] | None = None) -> str:
    """A JSON object whose arrays are spliced from stored JSON texts (no decode, no re-encode).

    Big export pages go out as the texts the database holds, which keeps them fast and lean.
    """
    parts = [f"{json.dumps(name)}:[{','.join(texts)}]" for name, texts in lists.items()]
    parts += [f"{json.dumps(name)}:{json.dumps(value, ensure_ascii=False)}"
              for name, value in (fields or {}).items()]
    return "{" + ",".join(parts) + "}"
