"""The sidebar's words in each language it speaks, chosen from the agent's locale."""

from __future__ import annotations

import json
from functools import cache

from plugin.resources import resource_dir

DEFAULT_LOCALE = "en"


@cache
def locales() -> tuple[str, ...]:
    folder = resource_dir("templates") / "translations"
    return tuple(sorted(path.stem for path in folder.glob("*.json")))


@cache
def catalog(locale: str) -> dict[str, str]:
    """All strings of `locale`, falling back to English for any it lacks."""
    folder = resource_dir("templates") / "translations"
    english = json.loads((folder / f"{DEFAULT_LOCALE}.json").read_text(encoding="utf-8"))
    if locale == DEFAULT_LOCALE:
        return english
    return {**english, **json.loads((folder / f"{locale}.json").read_text(encoding="utf-8"))}


def pick_locale(requested: str) -> str:
    """The best language we have for a Zendesk locale such as "de", "de-CH" or "pt-BR"."""
    wanted = requested.replace("_", "-").lower()
    for candidate in (wanted, wanted.split("-")[0]):
        if candidate in locales():
            return candidate
    return DEFAULT_LOCALE
