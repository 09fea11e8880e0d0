"""The rules of `translations/*.json`.

Reproduces ZAS `lib/zendesk_apps_support/validations/translations.rb`: locale file names,
JSON objects, a `label` on every entry of `app.parameters`, and in `translations/en.json` the
keys the listing needs (`name` for a private app; also both descriptions and the installation
instructions for a public one). As in ZAS, the listing keys are checked only while no other
translation problem has been found.
"""

from __future__ import annotations

import json
import re
from typing import Any

from plugin.appkit.folder import AppFolder, Problem, error
from plugin.appkit.messages import ruby_truthy

TRANSLATIONS_PATH = re.compile(r"translations/(.*)\.json")
# Ruby's ^ and $ anchor lines and its \w is ASCII: "en", "pt-br", "es-419".
VALID_LOCALE = re.compile(r"^[a-z]{2}(-\w{2,3})?$", re.MULTILINE | re.ASCII)
LISTING_FILE = "translations/en.json"
PUBLIC_APP_KEYS = ("name", "short_description", "installation_instructions",
                   "long_description")
PRIVATE_APP_KEYS = ("name",)
LEGACY_DESCRIPTION = ("description", "short_description")  # accepted for short_description
PRODUCTS = ("support", "chat", "standalone_chat", "sell")
LABEL = "label"


def check(folder: AppFolder, manifest: dict[str, Any] | None) -> list[Problem]:
    problems: list[Problem] = []
    for name in folder.files():
        match = TRANSLATIONS_PATH.fullmatch(name)
        if not match:
            continue
        if not VALID_LOCALE.search(match[1]):
            problems.append(error("translation.invalid_locale", file=name))
        content, problem = read_object(folder, name)
        if problem:
            problems.append(problem)
        else:
            problems += label_errors(name, content)
        if not problems and name == LISTING_FILE:
            private = ruby_truthy((manifest or {}).get("private", True))
            problems += listing_errors(name, content, private)
    return problems


def read_object(folder: AppFolder, name: str) -> tuple[dict[str, Any], Problem | None]:
    try:
        content = json.loads(folder.read(name).decode("utf-8"))
    except ValueError as broken:
        return {}, error("translation.not_json", file=name, errors=str(broken))
    if not isinstance(content, dict):
        return {}, error("translation.not_json_object", file=name)
    return content, None


def label_errors(name: str, content: dict[str, Any]) -> list[Problem]:
    """The first entry of `app.parameters` without a `label` (one message per file, as ZAS)."""
    app = content.get("app")
    parameters = app.get("parameters") if isinstance(app, dict) else None
    if not isinstance(parameters, dict):
        return []
    for parameter, entry in parameters.items():
        if not (isinstance(entry, dict) and LABEL in entry):
            return [error("translation.missing_required_key_on_leaf", file=name,
                          missing_key=LABEL, leaf=parameter)]
    return []


def listing_errors(name: str, content: dict[str, Any], private: bool) -> list[Problem]:
    """The keys a listing needs, at the top of `app` or under each product named there."""
    app = content.get("app")
    keys = list(app) if isinstance(app, dict) else []
    products = [key for key in keys if key in PRODUCTS]
    if not products:
        missing = missing_keys(keys, private)
        return [error("translation.missing_required_key", file=name,
                      missing_key=", ".join(missing))] if missing else []
    for product in products:
        section = app[product]
        missing = missing_keys(list(section) if isinstance(section, dict) else [], private)
        if missing:
            return [error("translation.missing_required_key_for_product", file=name,
                          product=product.capitalize(), missing_key=", ".join(missing))]
    return []


def missing_keys(keys: list[str], private: bool) -> list[str]:
    present = {LEGACY_DESCRIPTION[1] if key == LEGACY_DESCRIPTION[0] else key for key in keys}
    return [key for key in (PRIVATE_APP_KEYS if private else PUBLIC_APP_KEYS)
            if key not in present]
