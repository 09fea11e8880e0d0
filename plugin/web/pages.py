"""Pages that explain themselves: what a browser sees when it opens a page only Zendesk loads."""

from __future__ import annotations

from flask import render_template


def signed_only(page: str, where: str):
    """The answer to a GET of a page Zendesk loads with a signed POST: a 405 (allowing only
    POST) whose page says so, rather than a bare error."""
    return render_template("signed_only.html", page=page, where=where), 405, {"Allow": "POST"}
