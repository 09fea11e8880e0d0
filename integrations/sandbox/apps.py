"""Zendesk's app package validation (`POST /api/v2/apps/validate`), as far as a sandbox can.

Zendesk's ZCLI posts the zip as the multipart field `file` and reads a 200 as valid, else the
answer's `description`. The sandbox checks what every package needs before Zendesk's own
rules apply: a readable zip with `manifest.json` at its root, a JSON object naming the app,
its author (name and email), its default locale and its locations, and that locale's
translation file. It is a stand-in for tests, not Zendesk's validator.
"""

from __future__ import annotations

import io
import json
import zipfile

from flask import Blueprint, Response, request

from integrations.sandbox.context import reply

blueprint = Blueprint("apps", __name__, url_prefix="/api/v2")
MAX_PACKAGE = 10 * 1024 * 1024


@blueprint.post("/apps/validate")
def validate_app() -> Response:
    upload = request.files.get("file")
    if upload is None:
        return _refused("Upload the app package as the multipart field 'file'.")
    data = upload.read(MAX_PACKAGE + 1)
    if len(data) > MAX_PACKAGE:
        return _refused("The app package is larger than 10 MB.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json")) if "manifest.json" in names \
            else None
    except (zipfile.BadZipFile, ValueError, UnicodeDecodeError):
        return _refused("The app package is not a zip file with a readable manifest.json.")
    if manifest is None:
        return _refused("Could not find manifest.json at the root of the package.")
    if not isinstance(manifest, dict):
        return _refused("manifest.json must hold a JSON object.")
    author = manifest.get("author") if isinstance(manifest.get("author"), dict) else {}
    missing = [key for key, present in (
        ("name", bool(manifest.get("name"))), ("author.name", bool(author.get("name"))),
        ("author.email", bool(author.get("email"))),
        ("defaultLocale", bool(manifest.get("defaultLocale"))),
        ("location", bool(manifest.get("location")))) if not present]
    if missing:
        return _refused(f"Missing keys in manifest.json: {', '.join(missing)}.")
    locale = manifest["defaultLocale"]
    if f"translations/{locale}.json" not in names:
        return _refused(f"Missing translation file for the default locale: "
                        f"translations/{locale}.json.")
    return reply({})


def _refused(description: str) -> Response:
    return reply({"description": description}, 400)
