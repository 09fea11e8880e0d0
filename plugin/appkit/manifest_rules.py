"""The manifest's own rules: reading it, its fields, its locations and its framework version.

Reproduces ZAS `lib/zendesk_apps_support/validations/manifest.rb` (with the parsing of
`lib/zendesk_apps_support/manifest.rb`, `manifest/no_override_hash.rb` and
`manifest/location_options.rb`, the location list of `location.rb`, the products of
`product.rb` and the framework versions of `app_version.rb`). Parameters have their own
module, `parameter_rules`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from plugin.appkit.folder import AppFolder, Problem, error
from plugin.appkit.messages import ruby_text, ruby_truthy
from plugin.appkit.translation_rules import VALID_LOCALE

Manifest = dict[str, Any]

MANIFEST = "manifest.json"
REQUIRED_FIELDS = ("author", "defaultLocale")  # manifest.rb REQUIRED_MANIFEST_FIELDS
BOOLEAN_FIELDS = ("requirementsOnly", "marketingOnly", "singleInstall", "signedUrls", "private")
# JSON key -> the Ruby attribute name ZAS puts in "must be a string" messages.
STRING_FIELDS = {"defaultLocale": "default_locale", "version": "version",
                 "frameworkVersion": "framework_version",
                 "remoteInstallationURL": "remote_installation_url",
                 "termsConditionsURL": "terms_conditions_url", "gaID": "google_analytics_code"}
AUTHOR_STRINGS = ("name", "email", "url")
URL_PATTERN = re.compile(r"^https?://", re.MULTILINE)
# app_version.rb: DEPRECATED, SUNSETTING and CURRENT are still served (FUTURE is nil).
FRAMEWORK_VERSIONS = ("0.5", "1.0", "2.0")
IFRAME_ONLY_FROM = (2,)
# product.rb: (name, legacy name); location.rb: the locations of each product.
PRODUCTS = (("support", "zendesk"), ("chat", "zopim"), ("standalone_chat", "lotus_box"),
            ("sell", "sell"))
LOCATIONS = {
    "support": ("top_bar", "nav_bar", "ticket_sidebar", "new_ticket_sidebar", "user_sidebar",
                "organization_sidebar", "background", "modal", "ticket_editor",
                "system_top_bar"),
    "chat": ("chat_sidebar", "background"),
    "standalone_chat": ("nav_bar", "system_top_bar"),
    "sell": ("deal_card", "person_card", "company_card", "lead_card", "background", "modal",
             "dashboard", "note_editor", "call_log_editor", "email_editor"),
}
LEGACY_URI_STUB = "_legacy"
SETTING_PLACEHOLDER = "{{setting."
ASSETS_PREFIX = "assets/"
# What Ruby's URI.parse accepts (RFC 3986 characters); anything else is an invalid URI.
URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


class DuplicateKey(ValueError):
    """A key given twice in one JSON object (ZAS parses into a hash that refuses overrides)."""

    def __init__(self, key: str, original: Any, attempted: Any) -> None:
        super().__init__(key)
        self.key, self.original, self.attempted = key, original, attempted


def read_manifest(folder: AppFolder) -> tuple[Manifest | None, list[Problem]]:
    """The parsed manifest, or None and why not (missing, nested, not JSON, duplicate keys)."""
    if not folder.has(MANIFEST):
        nested = folder.nested_manifest()
        return None, [error("nested_manifest", found_path=nested) if nested
                      else error("missing_manifest")]
    try:
        manifest = parse_json(folder.read(MANIFEST))
    except DuplicateKey as duplicate:
        detail = " ".join((error("duplicate_reference", key=duplicate.key).message,
                           error("duplicate_reference_values", original=duplicate.original,
                                 attempted=duplicate.attempted).message))
        return None, [error("duplicate_manifest_keys", errors=detail)]
    except ValueError as broken:
        return None, [error("manifest_not_json", errors=str(broken))]
    if not isinstance(manifest, dict):
        return None, [error("manifest_not_json", errors="The top level is not a JSON object.")]
    return manifest, []


def parse_json(raw: bytes) -> Any:
    """Strict JSON as Ruby's parser reads it: UTF-8, no NaN, no key given twice."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise DuplicateKey(key, result[key], value)
            result[key] = value
        return result

    def no_constants(name: str) -> Any:
        raise ValueError(f"unexpected token {name}")

    return json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates,
                      parse_constant=no_constants)


def check(folder: AppFolder, manifest: Manifest) -> list[Problem]:
    """Fields, types, default locale and URLs (manifest.rb `collate_manifest_errors`)."""
    problems = missing_fields(manifest) + type_errors(manifest)
    problems += default_locale_errors(folder, manifest) + url_errors(manifest)
    return problems


def check_locations(folder: AppFolder, manifest: Manifest) -> list[Problem]:
    """Locations and framework version, or their ban for requirements/marketing-only apps."""
    options = location_options(manifest)
    version = manifest.get("frameworkVersion")
    if ruby_truthy(manifest.get("requirementsOnly")) or ruby_truthy(manifest.get("marketingOnly")):
        return ([error("no_location_required")] if options.found else []) + \
               ([error("no_framework_version_required")] if version is not None else [])
    problems = []
    if not options.found:
        problems.append(error("manifest_keys.missing", missing_keys="location", count=1))
    problems += location_errors(folder, options)
    problems += framework_mismatch(options, version)
    if version is None:
        # ZAS then also reports " is not a valid framework version" and a location mismatch
        # against version 0; the missing field says it all.
        problems.append(error("manifest_keys.missing", missing_keys="frameworkVersion",
                              count=1))
    elif not isinstance(version, str) or version not in FRAMEWORK_VERSIONS:
        problems.append(error("invalid_version", target_version=version,
                              available_versions=", ".join(FRAMEWORK_VERSIONS)))
    return problems


def missing_fields(manifest: Manifest) -> list[Problem]:
    missing = [field for field in REQUIRED_FIELDS if manifest.get(field) is None]
    return [error("manifest_keys.missing", missing_keys=", ".join(missing),
                  count=len(missing))] if missing else []


def type_errors(manifest: Manifest) -> list[Problem]:
    """Booleans, strings and the array of `domainWhitelist` (manifest.rb `type_checks`)."""
    problems = []
    for field in BOOLEAN_FIELDS:
        value = manifest.get(field, True if field == "private" else None)
        if field != "private" and not ruby_truthy(value):
            value = False  # ZAS: `@field ||= false`
        if not isinstance(value, bool):
            problems.append(error("unacceptable_boolean", field=field, value=value))
    for field, label in STRING_FIELDS.items():
        value = manifest.get(field)
        if value is not None and not isinstance(value, str):
            problems.append(error("unacceptable_string", field=label, value=value))
    author = manifest.get("author")
    if isinstance(author, dict):
        for field in AUTHOR_STRINGS:
            value = author.get(field)
            if value is not None and not isinstance(value, str):
                problems.append(error("unacceptable_string", field=f"author {field}",
                                      value=value))
    whitelist = manifest.get("domainWhitelist")
    if whitelist is not None and not (isinstance(whitelist, list)
                                      and all(isinstance(d, str) for d in whitelist)):
        problems.append(error("unacceptable_array_of_strings", field="domainWhitelist"))
    return problems


def default_locale_errors(folder: AppFolder, manifest: Manifest) -> list[Problem]:
    locale = manifest.get("defaultLocale")
    if locale is None:
        return []
    if not isinstance(locale, str) or not VALID_LOCALE.search(locale):
        return [error("invalid_default_locale", default_locale=locale)]
    if f"translations/{locale}.json" not in folder.files():
        return [error("missing_translation_file", default_locale=locale)]
    return []


def url_errors(manifest: Manifest) -> list[Problem]:
    """`termsConditionsURL` and the author's URL must start with http(s)://."""
    author = manifest.get("author")
    checked = [("terms_conditions_url", manifest.get("termsConditionsURL"))]
    if isinstance(author, dict):
        checked.append(("author url", author.get("url")))
    return [error("invalid_url", field=field, value=value) for field, value in checked
            if isinstance(value, str) and value and not URL_PATTERN.search(value)]


@dataclass(frozen=True)
class LocationOption:
    product: str
    name: str
    url: Any
    auto_load: Any
    flexible: Any

    @property
    def legacy(self) -> bool:
        return self.url == LEGACY_URI_STUB


@dataclass(frozen=True)
class Locations:
    found: list[LocationOption]
    unknown: dict[str, list[str]]
    unknown_hosts: list[str]


def location_options(manifest: Manifest) -> Locations:
    """The `location` field read as ZAS reads it (manifest.rb `set_locations_and_hosts`)."""
    original = manifest.get("location")
    if isinstance(original, dict):
        hosts = list(original)
        per_product = {}
        for name, legacy in PRODUCTS:
            value = original[name] if name in original else original.get(legacy)
            if ruby_truthy(value):
                per_product[name] = value
    else:
        hosts = ["support"]
        legacy_names = original if isinstance(original, list) else \
            [original] if isinstance(original, str) else []
        per_product = {"support": {name: LEGACY_URI_STUB for name in legacy_names}}
    found, unknown = [], {}
    for product, entries in per_product.items():
        if isinstance(entries, list):
            entries = {name: LEGACY_URI_STUB for name in entries}
        if not isinstance(entries, dict):
            continue
        for name, options in entries.items():
            if name not in LOCATIONS[product]:
                unknown.setdefault(product, []).append(name)
                continue
            options = {"url": options} if isinstance(options, str) else \
                options if isinstance(options, dict) else {}
            found.append(LocationOption(product, name, options.get("url"),
                                        options.get("autoLoad", True), options.get("flexible")))
    known_hosts = {name for pair in PRODUCTS for name in pair}
    return Locations(found, unknown, [host for host in hosts if host not in known_hosts])


def location_errors(folder: AppFolder, locations: Locations) -> list[Problem]:
    """URLs, flexible flags, unknown locations and hosts (manifest.rb `invalid_location_error`)."""
    problems = []
    for option in locations.found:
        if isinstance(option.url, str) and option.url:
            if not valid_location_uri(folder, option.url):
                problems.append(error("invalid_location_uri", uri=option.url))
        elif ruby_truthy(option.auto_load):
            problems.append(error("blank_location_uri", location=option.name))
        if option.flexible not in (True, False, None):
            problems.append(error("invalid_location_flexible_type",
                                  flexible=ruby_text(option.flexible)))
    for product, names in locations.unknown.items():
        problems.append(error("invalid_location", invalid_locations=", ".join(names),
                              host_name=product.capitalize(), count=len(names)))
    problems += [error("invalid_host", host_name=host) for host in locations.unknown_hosts]
    return problems


def valid_location_uri(folder: AppFolder, uri: str) -> bool:
    """https (or any scheme on localhost), or an `assets/` file of the package."""
    if uri == LEGACY_URI_STUB or SETTING_PLACEHOLDER in uri:
        return True
    if not URI_CHARACTERS.fullmatch(uri):
        return False
    parts = urlsplit(uri)
    if parts.scheme:
        return parts.scheme == "https" or parts.hostname == "localhost"
    return parts.path.startswith(ASSETS_PREFIX) and folder.has(parts.path)


def framework_mismatch(locations: Locations, version: Any) -> list[Problem]:
    """Framework 2 apps load URLs only; older ones only the legacy templates."""
    parsed = version_tuple(version)
    if parsed is None:
        return []
    legacy = [option for option in locations.found if option.legacy]
    iframes = [option for option in locations.found if not option.legacy]
    if parsed >= IFRAME_ONLY_FROM and legacy:
        return [error("locations_must_be_urls")]
    if parsed < IFRAME_ONLY_FROM and iframes:
        return [error("locations_cant_be_urls")]
    return []


def version_tuple(version: Any) -> tuple[int, ...] | None:
    """A version such as "2.0" as (2, 0), as Gem::Version compares it; None if not one."""
    text = str(version) if isinstance(version, int | float | str) else ""
    if isinstance(version, bool) or not re.fullmatch(r"\d+(\.\d+)*", text):
        return None
    return tuple(int(part) for part in text.split("."))
