"""Warnings Zendesk's validator does not give, for mistakes it accepts in silence.

Zendesk ignores a manifest key it does not know, so `domainWhiteList` or `Secure` make a
package that uploads and then misbehaves. And a secure setting is only ever sent to the domains
of `domainWhitelist` (manifest reference, `domainWhitelist` and `parameters`), so secure
parameters without one are never usable. The keys below are those of the manifest reference
and of ZAS `manifest.rb` (RUBY_TO_JSON), `manifest/parameter.rb` and
`manifest/location_options.rb`.
"""

from __future__ import annotations

import difflib
from typing import Any

from plugin.appkit.folder import Problem, warning
from plugin.appkit.messages import ruby_truthy
from plugin.appkit.parameter_rules import parameters

MANIFEST_KEYS = ("name", "author", "defaultLocale", "private", "location", "version",
                 "frameworkVersion", "singleInstall", "signedUrls", "noTemplate", "parameters",
                 "domainWhitelist", "requirementsOnly", "marketingOnly", "experiments", "oauth",
                 "remoteInstallationURL", "termsConditionsURL", "gaID")
AUTHOR_KEYS = ("name", "email", "url")
PARAMETER_KEYS = ("name", "type", "required", "secure", "default", "scopes")
LOCATION_KEYS = ("url", "autoLoad", "autoHide", "flexible", "signed", "legacy", "size")
SIMILARITY = 0.85  # difflib ratio above which an unknown key is taken for a typo


def warnings(manifest: dict[str, Any]) -> list[Problem]:
    return misspelt_keys(manifest) + whitelist_warnings(manifest)


def misspelt_keys(manifest: dict[str, Any]) -> list[Problem]:
    """Unknown keys that look like known ones, in the manifest, author, parameters and
    locations."""
    problems = suggestions(manifest, MANIFEST_KEYS, "manifest.json")
    author = manifest.get("author")
    if isinstance(author, dict):
        problems += suggestions(author, AUTHOR_KEYS, "author")
    entries = manifest.get("parameters")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            problems += suggestions(entry, PARAMETER_KEYS, f"parameter {entry.get('name')}")
    products = manifest.get("location")
    for locations in products.values() if isinstance(products, dict) else []:
        for name, options in locations.items() if isinstance(locations, dict) else []:
            if isinstance(options, dict):
                problems += suggestions(options, LOCATION_KEYS, f"location {name}")
    return problems


def suggestions(found: dict[str, Any], known: tuple[str, ...], where: str) -> list[Problem]:
    problems = []
    for key in found:
        if key in known:
            continue
        same_letters = [name for name in known if name.lower() == key.lower()]
        close = same_letters or difflib.get_close_matches(key, known, n=1, cutoff=SIMILARITY)
        if close:
            problems.append(warning("project.misspelt_key", found=key, where=where,
                                    expected=close[0]))
    return problems


def whitelist_warnings(manifest: dict[str, Any]) -> list[Problem]:
    secure = [str(p.name) for p in parameters(manifest) if ruby_truthy(p.secure)]
    whitelist = manifest.get("domainWhitelist")
    if secure and not (isinstance(whitelist, list) and whitelist):
        return [warning("project.secure_without_domain_whitelist", params=", ".join(secure))]
    return []
