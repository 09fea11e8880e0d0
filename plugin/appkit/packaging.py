"""The upload-ready zip: the package with the deployment's URL filled in, validated first.

The manifest in the repository points at a placeholder server (`PLACEHOLDER_BASE`); packaging
replaces it with the address the app is deployed at, in every URL that starts with it and in
`domainWhitelist`. Zendesk wants `manifest.json` at the root of the zip (ZAS
`validations/manifest.rb`, `nested_manifest`), so the zip holds the package's files by their
paths inside the folder. Entries carry a fixed date, so the same input gives the same zip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from plugin.appkit.folder import AppFolder, Problem
from plugin.appkit.manifest_rules import MANIFEST
from plugin.appkit.validator import validate

PLACEHOLDER_BASE = "https://customer-value.example.com"
PLACEHOLDER_HOST = urlsplit(PLACEHOLDER_BASE).hostname
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SECURE_SCHEME = "https"
LOCAL_SCHEMES = ("http", "https")
LOCAL_HOST = "localhost"  # the one host ZAS lets a location use without https
URL_ENDS = ("", "/", "?", "#")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry
FILE_MODE = 0o644 << 16
JSON_INDENT = 2


class PackageError(Exception):
    """Why no zip was written, with the package's problems when validation refused it."""

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class Author:
    """Who publishes the app, as the listing shows it (`author` in the manifest): what
    `package` fills in over the repository's placeholders."""

    name: str | None = None
    email: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Package:
    path: Path
    base_url: str
    files: tuple[str, ...]
    warnings: tuple[Problem, ...]


def deployment_url(url: str) -> str:
    """The app server's base URL without a trailing slash; https only, except on localhost."""
    parts = urlsplit(url.strip())
    local = parts.hostname == LOCAL_HOST and parts.scheme in LOCAL_SCHEMES
    if not parts.hostname or not (parts.scheme == SECURE_SCHEME or local):
        raise PackageError(f"{url!r} is not an https:// address (Zendesk loads apps over "
                           f"HTTPS; only {LOCAL_HOST} may use http://)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise PackageError(f"{url!r} must be a plain base address, without credentials, "
                           "query or fragment")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def fill_in(manifest_text: bytes, base_url: str, author: Author = Author()) -> bytes:
    """The manifest with the placeholder server replaced by `base_url`, and its author filled
    in from `author`. The author's address is who to ask about the app, not the deployment:
    a placeholder `author.url` is dropped (unless `author.url` gives one), and a placeholder
    `author.email` is refused unless `author.email` gives one."""
    manifest = json.loads(manifest_text.decode("utf-8"))
    manifest["author"] = _author(manifest.get("author"), author)
    replaced = 0

    def rewrite(value: Any) -> Any:
        nonlocal replaced
        if isinstance(value, dict):
            return {key: rewrite(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        if isinstance(value, str) and value.startswith(PLACEHOLDER_BASE) and \
                value[len(PLACEHOLDER_BASE):][:1] in URL_ENDS:
            replaced += 1
            return base_url + value[len(PLACEHOLDER_BASE):]
        return value

    manifest = rewrite(manifest)
    if not replaced:
        raise PackageError(f"{MANIFEST} has no URL starting with {PLACEHOLDER_BASE} to "
                           "fill in")
    whitelist = manifest.get("domainWhitelist")
    if isinstance(whitelist, list):
        host = urlsplit(base_url).hostname
        manifest["domainWhitelist"] = [host if domain == PLACEHOLDER_HOST else domain
                                       for domain in whitelist]
    return (json.dumps(manifest, indent=JSON_INDENT, ensure_ascii=False) + "\n").encode()


def _author(given: Any, author: Author) -> dict[str, Any]:
    current = dict(given) if isinstance(given, dict) else {}
    if author.name:
        current["name"] = author.name.strip()
    if author.email:
        if not EMAIL.match(author.email.strip()):
            raise PackageError(f"{author.email!r} is not an email address")
        current["email"] = author.email.strip()
    if author.url:
        current["url"] = author.url.strip()
    elif _placeholder(current.get("url", "")):
        current.pop("url", None)
    if _placeholder(str(current.get("email", "")).rpartition("@")[2]):
        raise PackageError(
            f"author.email is the placeholder {current.get('email')!r}: pass --author-email "
            "with the address Zendesk admins should write to about the app")
    return current


def _placeholder(value: str) -> bool:
    host = urlsplit(value).hostname if "://" in value else value
    return bool(host) and (host == PLACEHOLDER_HOST or str(host).endswith(".example.com"))


def build_package(source: Path, url: str, out: Path, author: Author = Author()) -> Package:
    """Validate `source`, fill in `url` and the `author`, validate again, and write the zip
    to `out`."""
    base_url = deployment_url(url)
    report = validate(source)
    if not report.ok:
        raise PackageError(f"{source} has errors; fix them first", tuple(report.errors))
    names = AppFolder(source).files()
    with tempfile.TemporaryDirectory(prefix="customer-value-app-") as scratch:
        staging = Path(scratch)
        for name in names:
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, staging / name)
        (staging / MANIFEST).write_bytes(fill_in((source / MANIFEST).read_bytes(), base_url,
                                                 author))
        report = validate(staging)
        if not report.ok:
            raise PackageError(f"with {base_url} filled in, the package has errors",
                               tuple(report.errors))
        write_zip(staging, names, out)
    return Package(out, base_url, tuple(names), tuple(report.warnings))


def zipped(source: Path) -> bytes:
    """The package folder as the zip Zendesk would receive, in memory (for validation)."""
    with tempfile.TemporaryDirectory(prefix="customer-value-app-") as scratch:
        out = Path(scratch) / "app.zip"
        write_zip(source, AppFolder(source).files(), out)
        return out.read_bytes()


def write_zip(root: Path, names: list[str], out: Path) -> None:
    """`names` (paths inside `root`) into the zip `out`, replaced whole or not at all."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            entry.external_attr = FILE_MODE
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, (root / name).read_bytes())
    os.replace(partial, out)
