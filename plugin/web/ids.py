"""Zendesk ids in URLs, query strings and bodies: ASCII digits naming 1..2^63−1 (Zendesk's ids
are 64-bit signed integers, and so are the store's columns), anything else a 400.

`<zid:name>` in a route takes such an id; `optional_id` reads one from a query string or body.
"""

from __future__ import annotations

from flask import Flask, abort
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter

MAX_ID = 2 ** 63 - 1
MAX_DIGITS = len(str(MAX_ID))


def parse_id(value: object, name: str) -> int:
    """`value` (a str of ASCII digits or an int, never a bool) as an id; ValueError otherwise."""
    if isinstance(value, str) and value.isascii() and value.isdigit() \
            and len(value) <= MAX_DIGITS:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise ValueError(f"{name} must be a Zendesk id (1 to {MAX_ID})")
    return value


def optional_id(value: object, name: str) -> int | None:
    """An optional id (None or "" for none); a 400 naming `name` when it is not one."""
    if value is None or value == "":
        return None
    try:
        return parse_id(value, name)
    except ValueError as error:
        abort(400, str(error))


class IdConverter(BaseConverter):
    """A route part that is an id: any run of digits matches, and one out of range is a 400
    (not a 404, and never a number the database cannot hold)."""

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        try:
            return parse_id(value, "the id")
        except ValueError as error:
            raise BadRequest(str(error)) from None

    def to_url(self, value: int) -> str:
        return str(value)


def init_app(app: Flask) -> None:
    app.url_map.converters["zid"] = IdConverter
